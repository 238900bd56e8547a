"""The write and read models cannot drift apart: random sequences of commands (sessions created, messaged through
the chat API, answered, tagged, untagged, their state replaced, ended; participant upserts; chat completions;
`incoming_message` conversations, `/reset` included; bot messages a trigger sends) run through the real handlers,
their events are applied by the real projections to a real MongoDB-protocol server, and after every step each
field a GET answers is compared with what the aggregates hold. A rebuild of the read models from the event store
then equals them, and its usage counters equal a recount of the sessions and messages; delivering every event
again changes nothing. Hypothesis draws the sequences: 20 by default, 100 longer ones under `-m slow`."""

from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo import MongoClient

from command_api import commands
from command_api.domain.chat_session import ChatSession
from command_api.domain.chatbot import Chatbot
from command_api.domain.participant import Participant
from command_api.domain.team import Team, team_id
from command_api.http import documents
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.wiring.local_servers import LocalMongo
from projectors.feed import feed_writes
from projectors.projections.usage import slot_of
from projectors.rebuild import rebuild
from projectors.runner import apply, write_in_order
from query_api.queries.pagination import DEFAULT_PAGE_SIZE, PageRequest
from query_api.queries.participants import ParticipantFilter, list_participants
from query_api.queries.sessions import retrieve_session
from schemas import representations
from schemas.instants import utc_iso
from schemas.read_models import (
    COLLECTIONS,
    EVENTS,
    MESSAGES,
    SESSIONS,
    USAGE,
    USAGE_BY_CHATBOT,
    USAGE_BY_PARTICIPANT,
)
from tests.write_model import new_bus, new_team_with_chatbot

TEAM = "agree"
BASE = "http://testserver/"
FIRST_PAGE = PageRequest(DEFAULT_PAGE_SIZE, None, BASE, ())

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
tag_lists = st.lists(st.sampled_from(["a", "b", "c", "vip"]), min_size=1, max_size=3)
states = st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 3), min_size=1, max_size=2)
identifiers = st.sampled_from(["jane", "joe", "ann"])
steps = st.one_of(
    st.tuples(st.just("create"), identifiers, st.booleans(), states),
    st.tuples(st.just("message"), st.integers(0, 5), texts),
    st.tuples(st.just("reply"), st.integers(0, 5), texts),
    st.tuples(st.just("tag"), st.integers(0, 5), tag_lists),
    st.tuples(st.just("untag"), st.integers(0, 5), tag_lists),
    st.tuples(st.just("state"), st.integers(0, 5), states),
    st.tuples(st.just("end"), st.integers(0, 5)),
    st.tuples(st.just("upsert"), identifiers, st.one_of(st.none(), texts), states),
    st.tuples(st.just("completion"), identifiers, texts),
    st.tuples(st.just("api_message"), st.sampled_from(["hello", "/reset"])),
    st.tuples(st.just("trigger"), identifiers, texts),
)


@pytest.fixture(scope="module")
def mongo(tmp_path_factory):
    server = LocalMongo(tmp_path_factory.mktemp("mongodb")).start()
    client = MongoClient(server.url, tz_aware=True)
    yield client
    client.close()
    server.stop()


class World:
    """One write model, its read models, and what the steps made: sessions in order, and unanswered tasks."""

    def __init__(self, app: OcsApplication, db):
        self.app, self.db = app, db
        self.bus = new_bus(app)
        self.chatbot_id = new_team_with_chatbot(self.bus, TEAM)
        self.bus.handle(commands.PublishVersion(self.chatbot_id, "first", make_default=True))
        self.bus.handle(commands.CreateMessagingChannel(self.chatbot_id, "telegram", None))
        self.sessions: list[str] = []
        self.pending: dict[str, list[str]] = {}  # session id -> its unanswered tasks, oldest first
        self.position = 0

    def session(self, index: int) -> str | None:
        return self.sessions[index % len(self.sessions)] if self.sessions else None

    def project(self) -> None:
        """Apply what the steps recorded since the last call, as the projector and the feed writer would."""
        envelopes = self.app.envelopes(self.position, 10_000)
        if envelopes:
            apply(self.db, envelopes)
            write_in_order(self.db[EVENTS], feed_writes(envelopes))
            self.position = envelopes[-1]["position"]

    def run(self, step) -> None:
        kind, *args = step
        handle = self.bus.handle
        if kind == "create":
            identifier, with_history, state = args
            history = ({"role": "user", "content": "before"},) if with_history else ()
            created = handle(commands.CreateSession(TEAM, None, self.chatbot_id, identifier, history, state))
            self.sessions.append(str(created.session.id))
        elif kind == "completion":
            identifier, text = args
            exchange = handle(commands.StartCompletion(TEAM, None, self.chatbot_id, None, identifier, (), text))
            handle(commands.RecordReply(str(exchange.session.id), exchange.task_id, f"re: {text}", ("v1",)))
            self.sessions.append(str(exchange.session.id))
        elif kind == "api_message":
            (text,) = args
            exchange = handle(commands.SendApiMessage(TEAM, "caller@agree", self.chatbot_id, None, None, text))
            if exchange.task_id is not None:
                handle(commands.RecordReply(str(exchange.session.id), exchange.task_id, "ok", ("v1",)))
            self.remember(str(exchange.session.id))
        elif kind == "trigger":
            identifier, text = args
            triggered = handle(
                commands.TriggerBotMessage(TEAM, identifier, "telegram", self.chatbot_id, None, text, False, {}, {})
            )
            session = triggered.session
            task = next(task for task, status in session.tasks.items() if status == "processing")
            handle(commands.RecordBotMessage(str(session.id), task, text, True, ()))
            self.remember(str(session.id))
        elif kind == "upsert":
            identifier, name, data = args
            entry = commands.ParticipantEntry(self.chatbot_id, data, ())
            handle(commands.UpsertParticipant(TEAM, None, identifier, "api", name, (entry,)))
        else:
            self.on_session(kind, *args)
        self.project()

    def remember(self, session_id: str) -> None:
        if session_id not in self.sessions:
            self.sessions.append(session_id)

    def on_session(self, kind: str, index: int, *args) -> None:
        session_id = self.session(index)
        if session_id is None:
            return
        handle = self.bus.handle
        if kind == "message":
            if load(self.app, session_id, ChatSession).status != "complete":
                submitted = handle(commands.SubmitChatMessage(session_id, args[0], None, (), None))
                self.pending.setdefault(session_id, []).append(submitted.task_id)
        elif kind == "reply" and self.pending.get(session_id):
            tokens = {"prompt_tokens": len(args[0]), "completion_tokens": 2, "total_tokens": len(args[0]) + 2}
            task = self.pending[session_id].pop(0)
            handle(commands.RecordReply(session_id, task, args[0], ("v1",), usage=tokens, model="gpt-4.1-mini"))
        elif kind in ("tag", "untag"):
            handle(commands.TagSession(TEAM, session_id, tuple(args[0]), remove=kind == "untag"))
        elif kind == "state":
            handle(commands.ReplaceSessionState(TEAM, session_id, args[0]))
        elif kind == "end":
            handle(commands.EndSession(TEAM, session_id))

    def check(self) -> None:
        """Every field a GET answers, against the aggregates."""
        team = documents.team_document(load(self.app, team_id(TEAM), Team))
        chatbot = documents.chatbot_document(load(self.app, self.chatbot_id, Chatbot))
        for session_id in self.sessions:
            session = load(self.app, session_id, ChatSession)
            participant = load(self.app, session.participant_id, Participant)
            expected = representations.session(
                documents.session_document(session, participant.identifier, participant.remote_id),
                chatbot,
                team,
                BASE,
            )
            expected["tags"] = session.tags  # documents.session_document renders a new session's (no tags yet)
            served = retrieve_session(self.db, TEAM, session_id, BASE)
            # Messages' contents live in events, not in the aggregate, which keeps their count and the time of the
            # last: those are compared here, and the contents by the rebuild equality at the end.
            messages = served.pop("messages")
            assert len(messages) == session.message_count, session_id
            if messages:
                assert messages[-1]["created_at"] == utc_iso(session.last_message_at), session_id
            assert served.pop("usage") == representations.NO_USAGE
            assert served == expected, session_id
        chatbots = {self.chatbot_id: chatbot}
        listed = list_participants(self.db, TEAM, ParticipantFilter(None, None, None), FIRST_PAGE)["results"]
        for served in listed:
            participant = load(self.app, served["id"], Participant)
            assert served == representations.participant_detail(documents.participant_document(participant), chatbots)


COUNTED = ("sessions", "human", "ai")


def usage_recount(db) -> dict:
    """The usage counters recounted from the sessions and messages read models: (level, day, chatbot, platform,
    participant or None) -> {(quarter hour, counter): n}."""
    counts = defaultdict(Counter)
    sessions = {session["_id"]: session for session in db[SESSIONS].find()}

    def count(session: dict, instant: str, counter: str) -> None:
        day, quarter = slot_of(instant)
        place = (day, session["experiment_id"], session["platform"] or "api")
        counts[(USAGE_BY_CHATBOT, *place, None)][(str(quarter), counter)] += 1
        counts[(USAGE_BY_PARTICIPANT, *place, session["participant_id"])][(str(quarter), counter)] += 1

    # A session counts once engaged: once a participant has said something in it.
    engaged = {message["session_id"] for message in db[MESSAGES].find({"role": "user"}, {"session_id": 1})}
    for session_id in engaged:
        count(sessions[session_id], sessions[session_id]["created_at"], "sessions")
    for message in db[MESSAGES].find({"role": {"$in": ["user", "assistant"]}}):
        count(sessions[message["session_id"]], message["created_at"], "human" if message["role"] == "user" else "ai")
    return counts


def usage_counted(db) -> dict:
    return {
        (doc["level"], doc["day"], doc["chatbot"], doc["platform"], doc.get("participant")): Counter(
            {(quarter, name): n for quarter, found in doc["q"].items() for name, n in found.items() if name in COUNTED}
        )
        for doc in db[USAGE].find()
    }


def read_models(db) -> dict:
    return {name: sorted(db[name].find({}, {"version": 0}), key=lambda doc: doc["_id"]) for name in COLLECTIONS}


def agree(mongo, tmp_path_factory, sequence) -> None:
    directory = tmp_path_factory.mktemp("write-model")
    app = OcsApplication(f"sqlite:///{directory}/events.sqlite", directory / "files")
    name = directory.name.replace(".", "_")[-40:]
    live, fresh = mongo[f"live_{name}"], mongo[f"fresh_{name}"]
    try:
        world = World(app, live)
        world.project()
        for step in sequence:
            world.run(step)
            world.check()
        rebuild(fresh, app.all_envelopes())
        assert read_models(fresh) == read_models(live)
        assert usage_counted(fresh) == usage_recount(fresh)
        # Every event delivered again counts nothing twice.
        apply(live, list(app.all_envelopes()))
        assert read_models(live) == read_models(fresh)
    finally:
        app.close()
        mongo.drop_database(live.name)
        mongo.drop_database(fresh.name)


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings(max_examples=20, **SETTINGS)
@given(sequence=st.lists(steps, min_size=1, max_size=14))
def test_every_get_field_matches_the_aggregates_after_every_step(mongo, tmp_path_factory, sequence):
    agree(mongo, tmp_path_factory, sequence)


@pytest.mark.slow
@settings(max_examples=100, **SETTINGS)
@given(sequence=st.lists(steps, min_size=1, max_size=30))
def test_the_models_agree_over_many_longer_sequences(mongo, tmp_path_factory, sequence):
    agree(mongo, tmp_path_factory, sequence)
