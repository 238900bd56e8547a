"""Cursor pagination as OCS does it (SPEC §1.7): opaque cursors holding a position on the ordering key,
so inserts between pages neither duplicate nor skip rows; `count` on the first page only."""

import base64
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from pymongo.collection import Collection

from schemas.errors import detail

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1500


@dataclass(frozen=True)
class PageRequest:
    """Which page a client asked for, and where its links point: `url` with `args` and a cursor."""

    size: int
    cursor: str | None  # None (or an empty `cursor=`): the first page
    url: str
    args: tuple[tuple[str, str], ...]  # the request's other query parameters, kept in the links

    def link(self, cursor: str) -> str:
        # Repeated parameters (`metric=cost&metric=tokens`) stay repeated.
        return f"{self.url}?{urlencode([*self.args, ('cursor', cursor)])}"


def page_size(raw: str | None) -> int:
    try:
        size = int(raw or "")
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE) if size > 0 else DEFAULT_PAGE_SIZE


def encode_cursor(listing: str, position: str, reverse: bool) -> str:
    raw = json.dumps({"l": listing, "p": position, "r": reverse}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(listing: str, cursor: str) -> tuple[str, bool]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if decoded["l"] == listing and isinstance(decoded["p"], str) and isinstance(decoded["r"], bool):
            return decoded["p"], decoded["r"]
    except (ValueError, TypeError, KeyError):
        pass
    raise detail(404, "Invalid cursor")


def paginate(
    collection: Collection, query: dict, listing: str, ascending: bool, page: PageRequest
) -> tuple[list[dict], dict]:
    """(this page's documents, the page's `next`/`previous`/`count`), ordered by `sort_key`."""
    cursor = page.cursor
    position, reverse = decode_cursor(listing, cursor) if cursor else (None, False)
    # Walking backwards (a `previous` link) reads the opposite way, then turns the page around.
    forward_up = ascending != reverse
    selector = dict(query)
    if position is not None:
        selector["sort_key"] = {"$gt" if forward_up else "$lt": position}
    docs = list(collection.find(selector).sort("sort_key", 1 if forward_up else -1).limit(page.size + 1))
    more = len(docs) > page.size
    docs = docs[: page.size]
    if reverse:
        docs.reverse()
    first_key = docs[0]["sort_key"] if docs else position
    last_key = docs[-1]["sort_key"] if docs else position
    has_next = reverse or more
    has_previous = (more if reverse else cursor is not None) and first_key is not None
    links = {
        "next": page.link(encode_cursor(listing, last_key, False)) if has_next and last_key else None,
        "previous": page.link(encode_cursor(listing, first_key, True)) if has_previous else None,
    }
    if cursor is None:
        links["count"] = collection.count_documents(query)
    return docs, links
