"""Participant: one person on one platform of one team; the id is derived from (team, platform, identifier)."""

import hashlib
from uuid import UUID

from command_api.domain.base import OcsAggregate
from schemas.ids import derived_id


class Participant(OcsAggregate):
    class Created(OcsAggregate.Created):
        identifier: str
        platform: str
        name: str
        remote_id: str
        user: str | None

    class DataChanged(OcsAggregate.Event):
        """This participant's whole data for one chatbot, as it now is."""

        chatbot_id: str
        data: dict

        def apply(self, participant: "Participant") -> None:
            participant.data[self.chatbot_id] = self.data

    class SessionJoined(OcsAggregate.Event):
        """A new session of this participant with a chatbot; the latest is where API messages continue."""

        chatbot_id: str
        session_id: str

        def apply(self, participant: "Participant") -> None:
            participant.latest_sessions[self.chatbot_id] = self.session_id

    class Renamed(OcsAggregate.Event):
        name: str

        def apply(self, participant: "Participant") -> None:
            participant.name = self.name

    class ScheduleSet(OcsAggregate.Event):
        """A one-off scheduled bot prompt for this participant and chatbot, created or updated."""

        chatbot_id: str
        schedule_id: str
        name: str
        prompt: str
        date: str

        def apply(self, participant: "Participant") -> None:
            participant.schedules[schedule_key(self.chatbot_id, self.schedule_id)] = {
                "name": self.name,
                "prompt": self.prompt,
                "date": self.date,
                "cancelled": False,
            }

    class ScheduleCancelled(OcsAggregate.Event):
        chatbot_id: str
        schedule_id: str
        cancelled_by: str | None

        def apply(self, participant: "Participant") -> None:
            participant.schedules[schedule_key(self.chatbot_id, self.schedule_id)]["cancelled"] = True

    def __init__(
        self, id: UUID, team: str, identifier: str, platform: str, name: str, remote_id: str, user: str | None
    ):
        self.team = team
        self.identifier = identifier
        self.platform = platform
        self.name = name
        self.remote_id = remote_id
        self.user = user
        self.data: dict[str, dict] = {}
        self.schedules: dict[str, dict] = {}
        self.latest_sessions: dict[str, str] = {}

    def join_session(self, chatbot_id: str, session_id: str) -> None:
        self.trigger_event(self.SessionJoined, chatbot_id=chatbot_id, session_id=session_id)

    def latest_session(self, chatbot_id: str) -> str | None:
        return self.latest_sessions.get(chatbot_id)

    def rename(self, name: str) -> None:
        if name != self.name:
            self.trigger_event(self.Renamed, name=name)

    def replace_data(self, chatbot_id: str, data: dict) -> None:
        """Recorded only when it changes the data (an identical upsert records nothing)."""
        if self.data.get(chatbot_id) != data:
            self.trigger_event(self.DataChanged, chatbot_id=chatbot_id, data=data)

    def set_schedule(self, chatbot_id: str, schedule_id: str, name: str, prompt: str, date: str) -> None:
        wanted = {"name": name, "prompt": prompt, "date": date, "cancelled": False}
        if self.schedules.get(schedule_key(chatbot_id, schedule_id)) != wanted:
            self.trigger_event(
                self.ScheduleSet, chatbot_id=chatbot_id, schedule_id=schedule_id, name=name, prompt=prompt, date=date
            )

    def cancel_schedule(self, chatbot_id: str, schedule_id: str, cancelled_by: str | None) -> None:
        """Cancel it if it exists and is not cancelled yet; unknown ids are ignored (SPEC §3.8b)."""
        schedule = self.schedules.get(schedule_key(chatbot_id, schedule_id))
        if schedule and not schedule["cancelled"]:
            self.trigger_event(
                self.ScheduleCancelled, chatbot_id=chatbot_id, schedule_id=schedule_id, cancelled_by=cancelled_by
            )

    def merge_data(self, chatbot_id: str, data: dict) -> None:
        """Set these keys in the chatbot's data, keeping the others (a shallow merge)."""
        self.replace_data(chatbot_id, {**self.data_for(chatbot_id), **data})

    def data_for(self, chatbot_id: str) -> dict:
        return self.data.get(chatbot_id, {})


def schedule_key(chatbot_id: str, schedule_id: str) -> str:
    return f"{chatbot_id}/{schedule_id}"


def derived_schedule_id(name: str, chatbot_id: str, participant: UUID) -> str:
    """The id of a schedule given without one: the same (name, chatbot, participant) updates it again."""
    return hashlib.sha256(f"{name}|{chatbot_id}|{participant}".encode()).hexdigest()[:32]


def participant_id(team: str, platform: str, identifier: str) -> UUID:
    return derived_id("participant", team, platform, identifier)
