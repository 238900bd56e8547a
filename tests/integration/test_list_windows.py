"""Pages read in windows of `sort_key` (`query_api/queries/pagination.py`), on the real MongoDB-protocol server: the
same documents, order and links as one sorted read of the whole list, however unevenly the list is spread in time."""

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from query_api.queries.pagination import ListEnds, Listing, PageRequest, paginate
from schemas.instants import utc_iso

COLLECTION = "windowed"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Bursts and gaps: sessions a microsecond apart, a day apart and years apart.
OFFSETS = [
    *(timedelta(microseconds=n) for n in range(40)),
    *(timedelta(days=n) for n in range(1, 12)),
    *(timedelta(days=3000 + n, seconds=n) for n in range(30)),
]


@pytest.fixture(scope="module")
def listed(servers):
    collection = servers.system.db[COLLECTION]
    collection.drop()
    docs = []
    for n, offset in enumerate(OFFSETS):
        created = utc_iso(START + offset)
        doc_id = f"{n:04d}"
        docs.append(
            {"_id": doc_id, "team": "t", "tags": ["odd"] if n % 2 else ["even"], "sort_key": f"{created}|{doc_id}"}
        )
    docs.append({"_id": "other", "team": "u", "tags": ["odd"], "sort_key": docs[5]["sort_key"]})
    collection.insert_many(docs)
    collection.create_index([("team", 1), ("sort_key", 1)])
    collection.create_index([("team", 1), ("tags", 1), ("sort_key", 1)])
    return collection, [doc for doc in docs if doc["team"] == "t"]


def cursor_of(link: str | None) -> str | None:
    return parse_qs(urlsplit(link).query)["cursor"][0] if link else None


def walk(collection, listing: Listing, ascending: bool, size: int) -> tuple[list[str], list[list[str]]]:
    """Every id, page by page forwards; then the pages again, read backwards from the last."""
    pages, cursor, links = [], None, []
    while True:
        docs, page_links = paginate(collection, listing, ascending, PageRequest(size, cursor, "/l", ()))
        pages.append([doc["_id"] for doc in docs])
        links.append(page_links)
        cursor = cursor_of(page_links["next"])
        if cursor is None:
            break
    back, cursor = [], cursor_of(links[-1]["previous"])
    while cursor is not None:
        docs, page_links = paginate(collection, listing, ascending, PageRequest(size, cursor, "/l", ()))
        back.insert(0, [doc["_id"] for doc in docs])
        cursor = cursor_of(page_links["previous"])
    return [doc_id for page in pages for doc_id in page], [pages[:-1], back]


@pytest.mark.parametrize("size", [1, 3, 7, 100])
@pytest.mark.parametrize("ascending", [False, True])
@pytest.mark.parametrize("windowed", [False, True], ids=["one read", "windows"])
def test_windows_read_the_pages_one_sorted_read_does(listed, size, ascending, windowed):
    collection, docs = listed
    ends = ListEnds(min(d["sort_key"] for d in docs), max(d["sort_key"] for d in docs), len(docs))
    listing = Listing("l", ({"team": "t"},), None, ends if windowed else None, len(docs))

    ids, (forward, backward) = walk(collection, listing, ascending, size)

    assert ids == [doc["_id"] for doc in sorted(docs, key=lambda d: d["sort_key"], reverse=not ascending)]
    assert forward == backward


@pytest.mark.parametrize("size", [1, 4, 100])
def test_a_union_of_ranges_and_a_check_read_each_document_once_in_order(listed, size):
    collection, docs = listed
    ends = ListEnds(min(d["sort_key"] for d in docs), max(d["sort_key"] for d in docs), 5)
    ranges = ({"team": "t", "tags": "odd"}, {"team": "t", "tags": "even"})
    listing = Listing("l", ranges, lambda doc: doc["_id"] < "0060", ends)

    ids, (forward, backward) = walk(collection, listing, False, size)

    assert ids == [d["_id"] for d in sorted(docs, key=lambda d: d["sort_key"], reverse=True) if d["_id"] < "0060"]
    assert forward == backward
    _, first_links = paginate(collection, listing, False, PageRequest(size, None, "/l", ()))
    assert first_links["count"] == 60
