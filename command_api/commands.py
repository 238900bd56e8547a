"""Commands: what a caller asks the write model to do. Plain immutable values, no behaviour."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CreateTeam:
    slug: str
    name: str


@dataclass(frozen=True)
class IssueApiKey:
    team: str
    name: str
    read_only: bool
    user: str | None = None


@dataclass(frozen=True)
class RevokeApiKey:
    prefix: str


@dataclass(frozen=True)
class CreateChatbot:
    team: str
    name: str
    description: str
    prompt: str
    provider: str
    model: str
    base_url: str | None
    llm_api_key: str | None


@dataclass(frozen=True)
class PublishVersion:
    chatbot_id: str
    description: str
    make_default: bool


@dataclass(frozen=True)
class CreateWidgetChannel:
    chatbot_id: str
    allowed_domains: tuple[str, ...]
    auth_level: str


@dataclass(frozen=True)
class CreateSession:
    """POST /api/sessions/: a session on the team's API channel, optionally with history."""

    team: str
    caller: str | None  # the identity the credential acts as; the default participant
    experiment: str
    participant: str | None
    messages: tuple[dict, ...] = ()
    state: dict = field(default_factory=dict)
    page_context: dict | None = None
