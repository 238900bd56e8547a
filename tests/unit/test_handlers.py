"""Command handlers on a real (temporary SQLite) event store: the decisions and the error bodies they answer."""

import pytest

from command_api import commands
from command_api.domain.api_key import ApiKey, api_key_id
from command_api.domain.chat_session import ChatSession, api_channel_id
from command_api.domain.chatbot import Chatbot
from command_api.domain.participant import participant_id
from command_api.domain.team import team_id
from command_api.write_model.repository import load
from infra.secrets import secret_matches, split_api_key
from schemas.errors import ApiError


def refused(bus, command) -> ApiError:
    with pytest.raises(ApiError) as raised:
        bus.handle(command)
    return raised.value


# --- teams ---------------------------------------------------------------------------------------


def test_create_team_answers_its_slug_and_name(bus):
    outcome = bus.handle(commands.CreateTeam(slug="acme", name="Acme"))

    assert outcome.body == {"slug": "acme", "name": "Acme"}
    assert outcome.aggregate.id == team_id("acme")


def test_a_taken_team_slug_is_refused_with_409(bus, team, event_types):
    error = refused(bus, commands.CreateTeam(slug=team, name="Again"))

    assert (error.status, error.body) == (409, {"detail": "team 'acme' already exists"})
    assert event_types() == ["Team.Created"]


@pytest.mark.parametrize("slug", ["", "Acme", "-acme", "_acme", "ac me", "acme!", "acmé"])
def test_a_malformed_team_slug_is_refused_with_400(bus, slug, event_types):
    error = refused(bus, commands.CreateTeam(slug=slug, name="Acme"))

    assert error.status == 400
    assert error.body["detail"].startswith(f"invalid team slug {slug!r}")
    assert event_types() == []


def test_a_team_slug_with_a_trailing_newline_is_refused(bus):
    assert refused(bus, commands.CreateTeam(slug="acme\n", name="Acme")).status == 400


# --- API keys ------------------------------------------------------------------------------------


def test_an_issued_key_is_recorded_only_as_a_hash_of_its_secret(bus, app, team):
    key = bus.handle(commands.IssueApiKey(team=team, name="ci", read_only=True)).body["key"]
    prefix, secret = split_api_key(key)

    stored = load(app, api_key_id(prefix), ApiKey)

    assert secret not in (stored.secret_hash, stored.prefix)
    assert secret_matches(secret, stored.secret_hash)
    assert (stored.team, stored.read_only, stored.user) == (team, True, "admin@acme")


def test_a_key_for_an_unknown_team_is_refused_with_404(bus):
    error = refused(bus, commands.IssueApiKey(team="ghost", name="ci", read_only=False))

    assert (error.status, error.body) == (404, {"detail": "team 'ghost' does not exist"})


def test_revoking_twice_answers_the_same_and_records_one_revocation(bus, team, event_types):
    prefix, _ = split_api_key(bus.handle(commands.IssueApiKey(team=team, name="ci", read_only=False)).body["key"])

    answers = [bus.handle(commands.RevokeApiKey(prefix=prefix)).body for _ in range(2)]

    assert answers == [{"revoked": True}] * 2
    assert event_types().count("ApiKey.Revoked") == 1


def test_revoking_an_unknown_prefix_is_refused_with_404(bus):
    assert refused(bus, commands.RevokeApiKey(prefix="nope")).status == 404


# --- chatbots ------------------------------------------------------------------------------------


def test_a_new_chatbot_works_on_version_one(bus, team, create_chatbot):
    chatbot = load(bus.app, create_chatbot(team), Chatbot)
    assert chatbot.name == "Bot" and chatbot.version_number == 1


@pytest.mark.parametrize(
    "overrides, text",
    [
        ({"name": "   "}, "a chatbot name is 1 to 128 characters"),
        ({"name": "x" * 129}, "a chatbot name is 1 to 128 characters"),
        ({"provider": "claude"}, "unknown provider 'claude': use one of openai, echo"),
    ],
)
def test_an_invalid_chatbot_is_refused_with_400(create_chatbot, team, overrides, text):
    with pytest.raises(ApiError) as raised:
        create_chatbot(team, **overrides)

    assert (raised.value.status, raised.value.body) == (400, {"detail": text})


def test_publishing_answers_the_number_and_whether_it_is_the_default(bus, chatbot_id):
    first = bus.handle(commands.PublishVersion(chatbot_id=chatbot_id, description="", make_default=False)).body
    second = bus.handle(commands.PublishVersion(chatbot_id=chatbot_id, description="", make_default=False)).body

    assert first == {"version_number": 1, "is_default_version": True}
    assert second == {"version_number": 2, "is_default_version": False}


@pytest.mark.parametrize("chatbot_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_publishing_an_unknown_chatbot_is_refused_with_404(bus, chatbot_id):
    error = refused(bus, commands.PublishVersion(chatbot_id=chatbot_id, description="", make_default=False))

    assert error.status == 404


def test_a_widget_channel_with_an_unknown_auth_level_is_refused_with_400(bus, chatbot_id):
    error = refused(bus, commands.CreateWidgetChannel(chatbot_id=chatbot_id, allowed_domains=(), auth_level="magic"))

    assert error.status == 400


def test_a_widget_channel_belongs_to_its_chatbots_team(bus, chatbot_id):
    outcome = bus.handle(
        commands.CreateWidgetChannel(chatbot_id=chatbot_id, allowed_domains=("*.example.com",), auth_level="none")
    )

    assert outcome.aggregate.team == "acme"
    assert outcome.aggregate.allowed_domains == ["*.example.com"]
    assert outcome.body["channel_id"] == str(outcome.aggregate.id)


# --- sessions (POST /api/sessions/) --------------------------------------------------------------


@pytest.mark.parametrize("unknown", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_a_session_on_an_unknown_chatbot_is_a_field_error_on_experiment(create_session, unknown):
    with pytest.raises(ApiError) as raised:
        create_session(experiment=unknown)

    assert raised.value.status == 400
    assert raised.value.body == {"experiment": [f"Object with public_id={unknown} does not exist."]}


def test_an_id_of_another_kind_of_aggregate_is_not_a_chatbot(create_session, team):
    with pytest.raises(ApiError) as raised:
        create_session(experiment=str(team_id(team)))

    assert raised.value.status == 400 and list(raised.value.body) == ["experiment"]


def test_a_session_on_another_teams_chatbot_is_not_found(bus, create_session, create_chatbot):
    bus.handle(commands.CreateTeam(slug="other", name="Other"))
    theirs = create_chatbot("other")

    with pytest.raises(ApiError) as raised:
        create_session(experiment=theirs)

    assert (raised.value.status, raised.value.body) == (404, {"detail": "Experiment not found"})


def test_without_participant_or_calling_user_the_participant_is_required(create_session, event_types):
    recorded = event_types()

    with pytest.raises(ApiError) as raised:
        create_session(participant=None, caller=None)

    # A plain string, not a list: OCS raises this one by hand (SPEC §3.3b).
    assert (raised.value.status, raised.value.body) == (400, {"participant": "This field is required."})
    assert event_types() == recorded


def test_a_new_session_is_set_up_on_the_teams_api_channel(create_session, chatbot_id):
    session = create_session(participant="jane").session

    assert (session.status, session.platform, session.session_token_required) == ("setup", None, True)
    assert session.channel_id == api_channel_id("acme")
    assert session.chatbot_id == chatbot_id


def test_the_participant_defaults_to_the_calling_user(create_session):
    created = create_session(participant=None, caller="admin@acme")

    assert created.participant.identifier == "admin@acme"
    assert created.participant.user == "admin@acme"


def test_page_context_lands_in_state_beside_the_given_keys(create_session):
    session = create_session(state={"step": 2}, page_context={"product": "x", "nested": {"a": [1]}}).session

    assert session.state == {"step": 2, "page_context": {"product": "x", "nested": {"a": [1]}}}


def test_without_page_context_the_state_is_as_given(create_session):
    assert create_session(state={"step": 2}).session.state == {"step": 2}


def test_the_same_participant_identifier_reuses_one_participant(create_session, event_types):
    first = create_session(participant="jane@example.com")
    second = create_session(participant="jane@example.com")

    assert first.participant.id == second.participant.id == participant_id("acme", "api", "jane@example.com")
    assert event_types().count("Participant.Created") == 1
    assert first.session.id != second.session.id


def test_different_identifiers_are_different_participants(create_session):
    assert create_session(participant="jane").participant.id != create_session(participant="john").participant.id


def test_history_is_appended_in_order_with_the_session(create_session, event_types):
    history = ({"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"})

    session = create_session(messages=history).session

    assert session.message_count == 2 and session.version == 2
    assert event_types()[-2:] == ["ChatSession.Created", "ChatSession.MessagesAppended"]


def test_without_history_no_messages_event_is_recorded(create_session, event_types):
    create_session(messages=())

    assert event_types()[-1] == "ChatSession.Created"


def test_the_answer_carries_the_chatbot_participant_and_team(create_session, chatbot_id):
    created = create_session(participant="jane")

    assert str(created.chatbot.id) == chatbot_id
    assert created.team.name == "Acme"
    assert created.session.participant_id == str(created.participant.id)


# --- replies -------------------------------------------------------------------------------------


def test_a_pipelines_effects_are_recorded_with_its_reply_in_one_write(bus, app, create_session, event_types):
    created = create_session(participant="p@example.org", page_context={"product": "X"})
    session_id = str(created.session.id)
    submitted = bus.handle(
        commands.SubmitChatMessage(
            session_id=session_id, text="hi", context=None, attachment_ids=(), version_number=None
        )
    )
    before = len(event_types())
    positions_before = app.recorder.max_notification_id()
    bus.handle(
        commands.RecordReply(
            session_id,
            submitted.task_id,
            "done",
            ("v1-unreleased", "flagged"),
            state={"page_context": {"product": "changed?"}, "step": 2},
            participant_data={"visits": 3},
            session_tags=("vip",),
            ends_session=True,
            trace=({"id": "start", "type": "start", "output": "hi", "printed": ""},),
        )
    )
    assert event_types()[before:] == [
        "ChatSession.ReplyRecorded",
        "ChatSession.StateChanged",
        "ChatSession.Tagged",
        "ChatSession.Ended",
        "Participant.DataChanged",
    ]
    assert app.recorder.max_notification_id() - positions_before == 5
    session = load(app, session_id, ChatSession)
    # page_context is set only by its parameter: a pipeline cannot change it.
    assert session.state == {"page_context": {"product": "X"}, "step": 2}
    assert session.user_tags == ["vip"] and session.status == "pending-review"
    assert session.tasks[submitted.task_id] == "complete"


def test_repeated_commands_that_change_nothing_record_nothing(bus, team, chatbot_id, create_session, event_types):
    session = create_session(state={"a": 1}).session
    schedule = {"id": "s1", "name": "remind", "prompt": "p", "date": "2030-01-01T00:00:00.000000Z", "delete": False}
    upsert = commands.UpsertParticipant(
        team=team,
        caller="admin",
        identifier="jane",
        platform="api",
        name="Jane",
        entries=(commands.ParticipantEntry(chatbot_id, {"plan": "pro"}, (schedule,)),),
    )
    for _ in range(2):
        bus.handle(upsert)
        bus.handle(commands.EndSession(team, str(session.id)))
        bus.handle(commands.ReplaceSessionState(team, str(session.id), {"b": 2}))
        bus.handle(commands.TagSession(team, str(session.id), ("x",)))
    recorded = event_types()

    for _ in range(3):
        bus.handle(upsert)
        bus.handle(commands.EndSession(team, str(session.id)))
        bus.handle(commands.ReplaceSessionState(team, str(session.id), {"b": 2}))
        bus.handle(commands.TagSession(team, str(session.id), ("x",)))

    assert event_types() == recorded
    assert recorded.count("ChatSession.Ended") == 1 and recorded.count("Participant.DataChanged") == 1
