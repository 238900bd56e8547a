"""The usage report (`GET /api/v2/usage/`) from the usage counters (`schemas/read_models.py` `USAGE`): the window
and its buckets in the request's timezone, the counters of the window's quarter hours added up per bucket (and group),
and their cost priced with the team's price table.

A request reads, through an index range, one counter document per day of its window and chatbot and platform (or per
participant too, when it needs participants), whatever the number of messages and sessions, and keeps one total per
bucket and group."""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from pymongo.database import Database

from query_api.queries.pagination import PageRequest, decode_cursor, encode_cursor
from schemas import representations
from schemas.errors import field_errors
from schemas.fields import decimal_digits
from schemas.read_models import (
    CHATBOTS,
    PARTICIPANTS,
    TEAMS,
    USAGE,
    USAGE_BY_CHATBOT,
    USAGE_BY_PARTICIPANT,
    usage_model_field,
)

# OCS refuses windows of more buckets than this, for any granularity.
MAX_BUCKETS = 366
DEFAULT_CURRENCY = "USD"
TOKENS_PER_PRICE = Decimal(1_000_000)
LISTING = "usage"
QUARTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive, in the request's timezone
    end: datetime  # exclusive
    tz: ZoneInfo
    buckets: tuple[datetime, ...]  # each bucket's start; one, the window's, for `total`
    days: tuple[str, str]  # the first and last UTC day the window touches

    @classmethod
    def of(cls, start: datetime, end: datetime, tz: ZoneInfo, buckets: tuple[datetime, ...]) -> "Window":
        first, last = start.astimezone(timezone.utc), end.astimezone(timezone.utc) - QUARTER
        return cls(start, end, tz, buckets, (first.date().isoformat(), last.date().isoformat()))


@dataclass
class Totals:
    """The counters of one bucket (of one group), added up."""

    human: int = 0
    ai: int = 0
    sessions: int = 0
    prompt: int = 0
    completion: int = 0
    total: int = 0
    participants: set = field(default_factory=set)  # those who sent or were sent a message
    models: dict = field(default_factory=dict)  # model field -> [prompt, completion]

    def add(self, counts: dict, participant: str | None) -> None:
        """One quarter hour's counters (of a participant, at the level that keeps them)."""
        self.human += counts.get("human", 0)
        self.ai += counts.get("ai", 0)
        self.sessions += counts.get("sessions", 0)
        self.prompt += counts.get("prompt", 0)
        self.completion += counts.get("completion", 0)
        self.total += counts.get("total", 0)
        if participant and (counts.get("human") or counts.get("ai")):
            self.participants.add(participant)
        for model, tokens in counts.get("models", {}).items():
            counted = self.models.setdefault(model, [0, 0])
            counted[0] += tokens.get("prompt", 0)
            counted[1] += tokens.get("completion", 0)


@dataclass(frozen=True)
class PriceTable:
    currency: str
    prices: dict  # model field -> (prompt, completion) per million tokens

    def cost(self, totals: Totals) -> Decimal:
        """Tokens of models without a price (or of no known model) cost nothing."""
        cost = Decimal(0)
        for model, (prompt, completion) in totals.models.items():
            if model in self.prices:
                prompt_price, completion_price = self.prices[model]
                cost += (prompt * prompt_price + completion * completion_price) / TOKENS_PER_PRICE
        return cost


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def month_after(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def bucket_day(day: date, granularity: str) -> date:
    """The first day of the bucket a day is in: weeks start on Mondays."""
    if granularity == "weekly":
        return day - timedelta(days=day.weekday())
    if granularity == "monthly":
        return day.replace(day=1)
    return day


def next_bucket_day(day: date, granularity: str) -> date:
    if granularity == "monthly":
        return month_after(day)
    return day + timedelta(days=7 if granularity == "weekly" else 1)


def window_bounds(params: dict, now: datetime) -> tuple[datetime, datetime]:
    """`start`/`end` (read in `tz` when they name no offset), or a calendar month in `tz` (the current by default)."""
    tz = params["tz"]
    if params["start"]:
        start, end = (at if at.tzinfo else at.replace(tzinfo=tz) for at in (params["start"], params["end"]))
        return start.astimezone(tz), end.astimezone(tz)
    this_month = now.astimezone(tz).date().replace(day=1)
    if params["period"] == "previous_month":
        return local_midnight((this_month - timedelta(days=1)).replace(day=1), tz), local_midnight(this_month, tz)
    return local_midnight(this_month, tz), local_midnight(month_after(this_month), tz)


def usage_window(params: dict, now: datetime) -> Window:
    """The window a request asks for, and its buckets; a 400 for an empty one, one of too many buckets, or one whose
    bounds or buckets fall outside the years 1 to 9999 (in UTC or in `tz`)."""
    try:
        return window_and_buckets(params, now)
    except OverflowError:
        raise field_errors({"non_field_errors": ["The window must lie within the years 1 to 9999."]}) from None


def window_and_buckets(params: dict, now: datetime) -> Window:
    start, end = window_bounds(params, now)
    if start >= end:
        raise field_errors({"non_field_errors": ["'end' must be after 'start'."]})
    granularity, tz = params["granularity"], params["tz"]
    if granularity == "total":
        return Window.of(start, end, tz, (start,))
    buckets = []
    day = bucket_day(start.date(), granularity)
    while (bucket := local_midnight(day, tz)) < end:
        if len(buckets) == MAX_BUCKETS:
            raise field_errors(
                {"non_field_errors": [f"The window spans more than {MAX_BUCKETS} {granularity} buckets."]}
            )
        buckets.append(bucket)
        day = next_bucket_day(day, granularity)
    return Window.of(start, end, tz, tuple(buckets))


def price_table(db: Database, team: str) -> PriceTable:
    doc = db[TEAMS].find_one({"team": team}, {"price_currency": 1, "model_prices": 1}) or {}
    prices = {
        usage_model_field(entry["model"]): (
            Decimal(entry["prompt_per_million"]),
            Decimal(entry["completion_per_million"]),
        )
        for entry in doc.get("model_prices", [])
    }
    return PriceTable(doc.get("price_currency") or DEFAULT_CURRENCY, prices)


def needs_participants(params: dict) -> bool:
    """Whether the request needs the counters per participant; the others are per chatbot and platform only."""
    return bool(
        params["group_by"] == "participant"
        or params["participant"]
        or params["participant_identifier"]
        or "participants" in params["metric"]
    )


def selector(db: Database, team: str, params: dict, window: Window) -> dict:
    """The counters of the window's UTC days at the level the request needs, narrowed by its filters."""
    query = {
        "team": team,
        "level": USAGE_BY_PARTICIPANT if needs_participants(params) else USAGE_BY_CHATBOT,
        "day": {"$gte": window.days[0], "$lte": window.days[1]},
    }
    for name in ("chatbot", "participant", "platform"):
        if params[name]:
            query[name] = params[name]
    if params["participant_identifier"]:
        named = db[PARTICIPANTS].find({"team": team, "identifier": params["participant_identifier"]}, {"_id": 1})
        ids = [doc["_id"] for doc in named if params["participant"] in (None, doc["_id"])]
        query["participant"] = {"$in": ids}
    return query


def bucket_of(window: Window, granularity: str):
    """A function from an instant in the window to its bucket's index in `window.buckets`."""
    if granularity == "total":
        return lambda at: 0
    index = {bucket.date(): number for number, bucket in enumerate(window.buckets)}
    return lambda at: index[bucket_day(at.astimezone(window.tz).date(), granularity)]


def quarters_in_window(doc: dict, window: Window):
    """(start, counters) of each quarter hour of a day's document that starts inside the window."""
    midnight = datetime.fromisoformat(doc["day"]).replace(tzinfo=timezone.utc)
    for quarter, counts in doc.get("q", {}).items():
        at = midnight + QUARTER * int(quarter)
        if window.start <= at < window.end:
            yield at, counts


def usage_totals(db: Database, team: str, params: dict, window: Window) -> dict[tuple, Totals]:
    """(group or None, bucket index) -> its totals, for every group and bucket with counters."""
    group = params["group_by"]
    bucket = bucket_of(window, params["granularity"])
    totals: dict[tuple, Totals] = {}
    for doc in db[USAGE].find(selector(db, team, params, window), {"_id": 0, "team": 0}):
        for at, counts in quarters_in_window(doc, window):
            totals.setdefault((doc[group] if group else None, bucket(at)), Totals()).add(counts, doc.get("participant"))
    return totals


@dataclass(frozen=True)
class GroupedPage:
    """One page of (group, bucket) rows, in group order and then bucket order, and its links."""

    rows: list[tuple[str, int]]
    links: dict


def grouped_page(groups: list[str], bucket_count: int, page: PageRequest) -> GroupedPage:
    """Rows are numbered group by group, so a page is a range of numbers; a cursor holds its row's group and bucket,
    so groups that appear between two requests neither repeat nor skip rows."""
    row_count = len(groups) * bucket_count
    first, last = 0, min(row_count, page.size)
    if page.cursor:
        position, reverse = decode_cursor(LISTING, page.cursor)
        group, _, bucket = position.rpartition("|")
        index = bisect_left(groups, group)
        found = index < len(groups) and groups[index] == group
        # The cursor's row, or where it would be (its group has no counters in this window).
        at = index * bucket_count + (min(int(bucket), bucket_count - 1) if found and decimal_digits(bucket) else 0)
        if reverse:
            first, last = max(0, at - page.size), at
        else:
            first = at + 1 if found else at
            last = min(row_count, first + page.size)
    rows = [(groups[number // bucket_count], number % bucket_count) for number in range(first, last)]

    def link(row: tuple[str, int], backward: bool) -> str:
        return page.link(encode_cursor(LISTING, f"{row[0]}|{row[1]}", backward))

    links = {
        "next": link(rows[-1], False) if rows and last < row_count else None,
        "previous": link(rows[0], True) if rows and first > 0 else None,
    }
    if page.cursor is None:
        links = {"count": len(groups), **links}
    return GroupedPage(rows, links)


def group_identities(db: Database, team: str, group_by: str, keys: set[str]) -> dict[str, object]:
    """How each group on a page is shown: a participant's and a chatbot's identity, a platform's slug."""
    if group_by == "participant":
        found = db[PARTICIPANTS].find({"_id": {"$in": list(keys)}, "team": team}, {"identifier": 1, "platform": 1})
        return {
            doc["_id"]: {"public_id": doc["_id"], "identifier": doc["identifier"], "platform": doc["platform"]}
            for doc in found
        }
    if group_by == "chatbot":
        found = db[CHATBOTS].find({"_id": {"$in": list(keys)}, "team": team}, {"name": 1})
        return {doc["_id"]: {"public_id": doc["_id"], "name": doc["name"]} for doc in found}
    return {key: key for key in keys}


def plain_counts(totals: Totals, prices: PriceTable | None) -> dict:
    counts = {
        "human": totals.human,
        "ai": totals.ai,
        "sessions": totals.sessions,
        "participants": len(totals.participants),
        "prompt": totals.prompt,
        "completion": totals.completion,
        "total": totals.total,
    }
    if prices is not None:
        counts |= {"cost": prices.cost(totals), "currency": prices.currency}
    return counts


def usage_report(db: Database, team: str, params: dict, now: datetime, page: PageRequest) -> dict:
    """The report a validated request (`schemas.requests.UsageRequest`) asks for, as of `now`."""
    window = usage_window(params, now)
    totals = usage_totals(db, team, params, window)
    metrics, granularity, group_by = params["metric"], params["granularity"], params["group_by"]
    prices = price_table(db, team) if "cost" in metrics else None
    empty = Totals()

    def blocks(group, bucket: int) -> dict:
        return representations.usage_metrics(plain_counts(totals.get((group, bucket), empty), prices), metrics)

    period = representations.usage_period(window.start, window.end, window.tz.key)
    finer = granularity != "total"
    if group_by is None:
        if not finer:
            return representations.usage_report(period, granularity, blocks(None, 0))
        buckets = [
            {"bucket_start": start.isoformat(), **blocks(None, number)} for number, start in enumerate(window.buckets)
        ]
        return representations.usage_report(period, granularity, buckets)
    page_of_rows = grouped_page(sorted({group for group, _ in totals}), len(window.buckets), page)
    identities = group_identities(db, team, group_by, {group for group, _ in page_of_rows.rows})
    rows = [
        representations.usage_row(
            group_by,
            identities.get(group) or unknown_identity(group_by, group),
            window.buckets[bucket] if finer else None,
            blocks(group, bucket),
        )
        for group, bucket in page_of_rows.rows
    ]
    return representations.grouped_usage(period, group_by, rows, page_of_rows.links)


def unknown_identity(group_by: str, key: str) -> dict:
    """A group whose participant or chatbot the read models do not have (yet): its id, and blanks."""
    if group_by == "participant":
        return {"public_id": key, "identifier": "", "platform": ""}
    return {"public_id": key, "name": ""}
