"""Lists on the MongoDB-protocol server alone: does each list's page and count take about the same time whatever
the team's size? `python -m bench.lists --sizes 1000,10000,100000` starts a local server in a temp dir, writes
sessions and participants (and their counters, as the projector keeps them) straight into the read models, recorded
~650 a second as `bench.fill` records them, and times the queries the query API makes for each list request
(`query_api/queries/`), without HTTP or rendering; and, for comparison, the same page as one sorted read of the
whole filter (`find().sort().limit()`, and `count_documents`), which is how lists were read before."""

import argparse
import json
import tempfile
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

from pymongo import MongoClient

from bench.stats import median_ms
from infra.wiring.local_servers import LocalMongo
from projectors.indexes import ensure_indexes
from query_api.queries.pagination import DEFAULT_PAGE_SIZE, PageRequest, encode_cursor, paginate
from query_api.queries.participants import ParticipantFilter, participant_listing
from query_api.queries.sessions import SessionFilter, session_listing
from schemas.instants import utc_iso
from schemas.read_models import LIST_COUNTS, PARTICIPANTS, SESSIONS, list_counter_id

TEAM = "bench"
CHATBOTS = ("bot-a", "bot-b")
TAGGED_EVERY = 5  # one session in five carries the tag `vip` (of both chatbots: they take turns)
RECORDED_APART = timedelta(microseconds=1540)  # ~650 sessions a second
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
INSERTED_AT_ONCE = 1000
# Beyond this size the way lists were read before is not timed: one read takes seconds and grows with the list.
BEFORE_UP_TO = 100_000

# Each list request timed: the list, its filter and whether it is the first page (with `count`) or a later one.
SESSION_REQUESTS = {
    "sessions, first page": SessionFilter(None, (), ()),
    "sessions ?experiment=": SessionFilter(CHATBOTS[1], (), ()),
    "sessions ?tags=vip": SessionFilter(None, ("vip",), ()),
    "sessions ?tags=vip,gone": SessionFilter(None, ("vip", "gone"), ()),
    "sessions ?versions=v1": SessionFilter(None, (), ("v1",)),
    "sessions ?experiment=&tags=vip": SessionFilter(CHATBOTS[1], ("vip",), ()),
}


def fill(db, first: int, last: int) -> None:
    """Sessions (and each one's participant) `first` to `last` - 1, and the counters they move."""
    for start in range(first, last, INSERTED_AT_ONCE):
        numbers = range(start, min(start + INSERTED_AT_ONCE, last))
        db[SESSIONS].insert_many([session(n) for n in numbers])
        db[PARTICIPANTS].insert_many([participant(n) for n in numbers])
    tagged = len([n for n in range(first, last) if n % TAGGED_EVERY == 0])
    moved = {
        (SESSIONS, "all", ""): last - first,
        (SESSIONS, "version", "v1"): last - first,
        (SESSIONS, "tag", "vip"): tagged,
        **{(SESSIONS, "chatbot", bot): len(of_chatbot(first, last, bot)) for bot in CHATBOTS},
        **{(SESSIONS, "chatbot_version", f"{bot}|v1"): len(of_chatbot(first, last, bot)) for bot in CHATBOTS},
        **{
            (SESSIONS, "chatbot_tag", f"{bot}|vip"): len(
                [n for n in of_chatbot(first, last, bot) if n % TAGGED_EVERY == 0]
            )
            for bot in CHATBOTS
        },
        (PARTICIPANTS, "all", ""): last - first,
    }
    for (listing, dimension, value), n in moved.items():
        ends = {}
        if dimension == "all":
            ends = {"$min": {"first_key": key_of(0)}, "$max": {"last_key": key_of(last - 1)}}
        db[LIST_COUNTS].update_one(
            {"_id": list_counter_id(listing, TEAM, dimension, value)}, {"$inc": {"count": n}, **ends}, upsert=True
        )


def of_chatbot(first: int, last: int, chatbot: str) -> range:
    """The numbers of `chatbot`'s sessions among `first` to `last` - 1 (the chatbots take turns)."""
    return range(first + (CHATBOTS.index(chatbot) - first) % len(CHATBOTS), last, len(CHATBOTS))


def key_of(n: int) -> str:
    return f"{utc_iso(START + n * RECORDED_APART)}|{n:08d}"


def session(n: int) -> dict:
    return {
        "_id": f"{n:08d}",
        "team": TEAM,
        "experiment_id": CHATBOTS[n % len(CHATBOTS)],
        "participant_id": f"p{n:08d}",
        "tags": ["vip"] if n % TAGGED_EVERY == 0 else [],
        "version_tags": ["v1"],
        "state": "{}",
        "sort_key": key_of(n),
    }


def participant(n: int) -> dict:
    return {
        "_id": f"{n:08d}",
        "team": TEAM,
        "identifier": f"p{n}@x.org",
        "platform": "api",
        "data": {},
        "sort_key": key_of(n),
    }


def sessions_page(db, only: SessionFilter, page: PageRequest) -> None:
    paginate(db[SESSIONS], session_listing(db, TEAM, only), False, page)


def participants_page(db, only: ParticipantFilter, page: PageRequest) -> None:
    paginate(db[PARTICIPANTS], participant_listing(db, TEAM, only), False, page)


def measured(db, size: int, samples: int) -> dict:
    first_page = PageRequest(DEFAULT_PAGE_SIZE, None, "/", ())
    # A page from the middle of the list, as a `next` link gives it.
    later_page = PageRequest(DEFAULT_PAGE_SIZE, encode_cursor(SESSIONS, key_of(size // 2), False), "/", ())
    out = {
        name: median_ms(partial(sessions_page, db, only, first_page), samples)
        for name, only in SESSION_REQUESTS.items()
    }
    out["sessions, a later page"] = median_ms(
        partial(sessions_page, db, SessionFilter(None, (), ()), later_page), samples
    )
    everyone, one = ParticipantFilter(None, None, None), ParticipantFilter(f"p{size // 2}@x.org", None, None)
    out["participants, first page"] = median_ms(partial(participants_page, db, everyone, first_page), samples)
    out["participants ?identifier="] = median_ms(partial(participants_page, db, one, first_page), samples)
    if size > BEFORE_UP_TO:
        return out
    whole = {"team": TEAM}
    out["before: sessions page, one sorted read"] = median_ms(
        lambda: list(db[SESSIONS].find(whole).sort("sort_key", -1).limit(DEFAULT_PAGE_SIZE + 1)), samples
    )
    out["before: sessions count_documents"] = median_ms(lambda: db[SESSIONS].count_documents(whole), samples)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lists", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="sessions to measure at (default 1000,10000)")
    parser.add_argument("--samples", type=int, default=5, help="timings per query and size (the median is kept)")
    parser.add_argument("--out", type=Path, help="also write the report here (JSON)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data_dir:
        server = LocalMongo(Path(data_dir)).start()
        client = MongoClient(server.url)
        try:
            db = client["bench_lists"]
            ensure_indexes(db)
            report, filled = {"method": __doc__.split("\n")[0], "ms_median": {}}, 0
            for size in sorted(int(s) for s in args.sizes.split(",")):
                fill(db, filled, size)
                filled = size
                report["ms_median"][str(size)] = measured(db, size, args.samples)
                print(json.dumps({size: report["ms_median"][str(size)]}), flush=True)
        finally:
            client.close()
            server.stop()
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
