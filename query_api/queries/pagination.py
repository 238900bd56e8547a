"""Cursor pagination as OCS does it (SPEC §1.7): opaque cursors holding a position on the ordering key,
so inserts between pages neither duplicate nor skip rows; `count` on the first page only."""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from pymongo.collection import Collection

from schemas.errors import detail
from schemas.instants import parse_instant, utc_iso

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1500
# A page's first window holds this share of a page if the list is spread evenly, and is never narrower than the
# smallest. Lists are not spread evenly (the newest sessions of a burst can be many times denser than the list's
# average), and a window costs the local server what it holds, whatever the limit; so the first window is a probe, and
# each next one reaches where, at the density the windows so far met, the page would be full, with a margin: at most
# MOST_GROWTH times as far from the page's start, and WINDOW_GROWTH times as far when they met nothing.
PROBE_SHARE = 0.25
WINDOW_MARGIN = 1.25
SMALLEST_WINDOW = timedelta(milliseconds=1)
WINDOW_GROWTH = 4
MOST_GROWTH = 16


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


@dataclass(frozen=True)
class ListEnds:
    """Where a list ends (its lowest and highest `sort_key`) and about how many documents its ranges hold: what
    sizes the windows a page is read in."""

    first_key: str
    last_key: str
    documents: int


@dataclass(frozen=True)
class Listing:
    """What a list shows: the documents of its ranges that `keep` keeps, in `sort_key` order. Each range is an
    equality on every field an index holds before `sort_key`, so that a window of `sort_key` is one bounded range of
    that index: the local MongoDB-protocol server reads only that range when a query names no field beyond the
    index's and no `$in` (otherwise it scans the collection), and sorts what it read in memory, whatever the limit."""

    name: str  # the cursor's listing
    ranges: tuple[dict, ...]  # the list is their union
    keep: Callable[[dict], bool] | None = None  # the filter's conditions that no range's index holds
    ends: ListEnds | None = None  # None: read in one unbounded range (a few documents, or no counters yet)
    count: int | None = None  # the first page's `count`, from counters; None: counted from the ranges


def paginate(collection: Collection, listing: Listing, ascending: bool, page: PageRequest) -> tuple[list[dict], dict]:
    """(this page's documents, the page's `next`/`previous`/`count`), ordered by `sort_key`."""
    cursor = page.cursor
    position, reverse = decode_cursor(listing.name, cursor) if cursor else (None, False)
    # Walking backwards (a `previous` link) reads the opposite way, then turns the page around.
    forward_up = ascending != reverse
    docs = nearest(collection, listing, position, forward_up, page.size + 1)
    more = len(docs) > page.size
    docs = docs[: page.size]
    if reverse:
        docs.reverse()
    first_key = docs[0]["sort_key"] if docs else position
    last_key = docs[-1]["sort_key"] if docs else position
    has_next = reverse or more
    has_previous = (more if reverse else cursor is not None) and first_key is not None
    links = {
        "next": page.link(encode_cursor(listing.name, last_key, False)) if has_next and last_key else None,
        "previous": page.link(encode_cursor(listing.name, first_key, True)) if has_previous else None,
    }
    if cursor is None:
        links["count"] = listing.count if listing.count is not None else counted(collection, listing)
    return docs, links


def nearest(collection: Collection, listing: Listing, position: str | None, up: bool, n: int) -> list[dict]:
    """The listing's first `n` documents past `position` (None: from the list's start), going up or down `sort_key`.
    Read in windows of creation time, each reaching farther from `position`, until they hold `n` documents or reach the
    list's end: each window is one bounded index range per range of the listing, so a page costs about what it holds,
    however long the list, and however unevenly spread (PROBE_SHARE)."""
    ends = listing.ends
    anchor = instant_of(position or (ends.first_key if up else ends.last_key)) if ends and ends.documents else None
    if anchor is None:
        return read(collection, listing, {"$gt" if up else "$lt": position} if position else {}, n, up)
    edge = ends.last_key if up else ends.first_key
    span = (instant_of(ends.last_key) or anchor) - (instant_of(ends.first_key) or anchor)
    reach = max(span * n * PROBE_SHARE / ends.documents, SMALLEST_WINDOW)
    inner, found = position, []
    while True:
        outer = moved(anchor, reach if up else -reach)
        reaches_end = outer is None or (outer > edge if up else outer < edge)
        bounds = {"$gt" if up else "$lt": inner} if inner else {}
        if not reaches_end:
            bounds["$lt" if up else "$gt"] = outer
        found += read(collection, listing, bounds, n - len(found), up)
        if len(found) >= n or reaches_end:
            return found
        inner, reach = outer, farther(reach, len(found), n)


def farther(reach: timedelta, found: int, wanted: int) -> timedelta:
    """How far from a page's start its next window reaches, the windows up to `reach` having held `found` documents."""
    if not found:
        return reach * WINDOW_GROWTH
    return min(reach * wanted * WINDOW_MARGIN / found, reach * MOST_GROWTH)


def instant_of(key: str) -> datetime | None:
    """The creation instant a `sort_key` starts with (None: a position that is not one, from a hand-made cursor)."""
    try:
        return parse_instant(key.split("|", 1)[0])
    except ValueError:
        return None


def moved(instant: datetime, by: timedelta) -> str | None:
    """The instant `by` away, as `sort_key`s start (None: past the calendar's end, so past every list's end)."""
    try:
        return utc_iso(instant + by)
    except OverflowError:
        return None


def read(collection: Collection, listing: Listing, bounds: dict, limit: int, up: bool) -> list[dict]:
    """The listing's documents whose `sort_key` is within `bounds`, nearest first, at most `limit`."""
    found = {}
    for selector in listing.ranges:
        query = {**selector, "sort_key": bounds} if bounds else selector
        docs = collection.find(query).sort("sort_key", 1 if up else -1)
        if listing.keep is None:
            docs = docs.limit(limit)
        found |= {doc["_id"]: doc for doc in docs if keeps(listing, doc)}
    return sorted(found.values(), key=lambda doc: doc["sort_key"], reverse=not up)[:limit]


def counted(collection: Collection, listing: Listing) -> int:
    """A count no counter holds: the documents of the listing's ranges, each once."""
    if listing.keep is None and len(listing.ranges) == 1:
        return collection.count_documents(listing.ranges[0])
    fields = None if listing.keep else {"_id": 1}  # the check reads the documents; a plain union only their ids
    found = (doc for selector in listing.ranges for doc in collection.find(selector, fields) if keeps(listing, doc))
    return len({doc["_id"] for doc in found})


def keeps(listing: Listing, doc: dict) -> bool:
    return listing.keep is None or listing.keep(doc)
