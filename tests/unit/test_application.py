"""OcsApplication's configuration: the aggregate cache sees other processes' writes; long sessions are snapshotted."""

import pytest

from command_api import commands
from command_api.domain.chat_session import ChatSession
from command_api.domain.chatbot import Chatbot
from command_api.write_model.repository import load
from schemas.errors import ApiError
from tests.write_model import new_bus


def test_a_command_decides_on_writes_made_by_another_process(app, bus, chatbot_id, other_process):
    # The aggregate cache is fast-forwarded on each get, so a cached chatbot is never decided on stale.
    load(app, chatbot_id, Chatbot)  # now cached in this process
    other = new_bus(other_process)
    other.handle(commands.PublishVersion(chatbot_id=chatbot_id, description="theirs", make_default=False))
    other.handle(commands.CreateTeam(slug="other", name="Other"))

    answer = bus.handle(commands.PublishVersion(chatbot_id=chatbot_id, description="mine", make_default=False)).body

    assert answer == {"version_number": 2, "is_default_version": False}
    with pytest.raises(ApiError) as raised:
        bus.handle(commands.CreateTeam(slug="other", name="Other"))
    assert raised.value.status == 409


def test_a_long_session_reloads_from_a_snapshot_and_continues_its_numbering(app, create_session, other_process):
    session_id = create_session().session.id
    for n in range(55):
        session = load(app, session_id, ChatSession)
        session.append_messages([{"id": str(n), "role": "user", "content": str(n)}])
        app.save(session)
    last_created_at = app.envelopes(0, 1000)[-1]["data"]["messages"][-1]["created_at"]
    assert list(app.snapshots.get(session_id)), "sessions are snapshotted every 50 events"

    reloaded = load(other_process, session_id, ChatSession)
    reloaded.append_messages([{"id": "after", "role": "user", "content": "after"}])
    (appended,) = reloaded.pending_events[-1].messages

    assert reloaded.message_count == 56
    assert appended["seq"] == 55
    assert appended["created_at"] > last_created_at
