"""The MongoDB read models, as every side names them: the projectors write them, the query API reads them, and
commands wait for them (read-your-writes)."""

import json
from urllib.parse import quote

# Collections, in the order a batch's writes are applied: a session document's version moves last,
# so whoever waits for it (read-your-writes) also sees the messages written with it.
TEAMS = "teams"
API_KEYS = "api_keys"
OAUTH_CLIENTS = "oauth_clients"
OAUTH_TOKENS = "oauth_tokens"
COOKIE_SESSIONS = "cookie_sessions"
# Each published version's configuration (its prompt or pipeline), beside its chatbot: written first, so a version
# a chatbot lists can be inspected.
CHATBOT_VERSIONS = "chatbot_versions"
CHATBOTS = "chatbots"
WIDGET_CHANNELS = "widget_channels"
MESSAGING_CHANNELS = "messaging_channels"
SUBSCRIPTIONS = "subscriptions"
PARTICIPANTS = "participants"
FILES = "files"
MESSAGES = "messages"
TASKS = "tasks"
# Each team's events in log order, for its feed (`GET /api/events/`).
EVENTS = "events"
SESSIONS = "sessions"
# Responses API responses kept by their clients: written after the messages they name.
RESPONSES = "responses"
# Counters, written in one transaction before the batch's other writes (`projectors/counting.py`): usage per team,
# day and dimension (`GET /api/v2/usage/`), the lists' counts and ends, and how far each session's events are counted.
USAGE = "usage"
LIST_COUNTS = "list_counts"
COUNTING_PROGRESS = "counting_progress"
# The lists' counters (`list_counts`): per listing and team, in all and per chatbot, tag and version tag, and per
# chatbot and tag and chatbot and version tag (a counter's value is then `chatbot|tag`).
LISTED_IN_ALL = "all"
LISTED_BY_CHATBOT = "chatbot"
LISTED_BY_TAG = "tag"
LISTED_BY_VERSION = "version"
LISTED_BY_CHATBOT_TAG = "chatbot_tag"
LISTED_BY_CHATBOT_VERSION = "chatbot_version"
# The usage counters' two levels (`level`): per chatbot and platform, and per participant, chatbot and platform.
USAGE_BY_CHATBOT = "chatbot"
USAGE_BY_PARTICIPANT = "participant"
COLLECTIONS = (
    TEAMS,
    API_KEYS,
    OAUTH_CLIENTS,
    OAUTH_TOKENS,
    COOKIE_SESSIONS,
    CHATBOT_VERSIONS,
    CHATBOTS,
    WIDGET_CHANNELS,
    MESSAGING_CHANNELS,
    SUBSCRIPTIONS,
    PARTICIPANTS,
    FILES,
    MESSAGES,
    TASKS,
    EVENTS,
    SESSIONS,
    RESPONSES,
    USAGE,
    LIST_COUNTS,
    COUNTING_PROGRESS,
)
# Each aggregate's own document, keyed by aggregate id and carrying its version.
COLLECTION_OF_AGGREGATE = {
    "Team": TEAMS,
    "ApiKey": API_KEYS,
    "OAuthClient": OAUTH_CLIENTS,
    "OAuthToken": OAUTH_TOKENS,
    "CookieSession": COOKIE_SESSIONS,
    "Chatbot": CHATBOTS,
    "WidgetChannel": WIDGET_CHANNELS,
    "Participant": PARTICIPANTS,
    "ChatSession": SESSIONS,
    "File": FILES,
    "MessagingChannel": MESSAGING_CHANNELS,
    "Subscription": SUBSCRIPTIONS,
    "StoredResponse": RESPONSES,
}


def stored_json(value) -> str:
    """Free-form client JSON as the read models keep it: as JSON text, since MongoDB restricts field names (no NUL,
    `$` and `.` only in some places) and a client must not be able to write an event no projection can store."""
    return json.dumps(value, separators=(",", ":"))


def chatbot_version_id(chatbot_id: str, version_number: int) -> str:
    """A published version's document in `CHATBOT_VERSIONS`."""
    return f"{chatbot_id}:{version_number}"


def usage_model_field(model: str) -> str:
    """A model's name as a field name of the usage read model (its tokens per model): MongoDB gives `.` and a leading
    `$` a meaning."""
    return quote(model, safe="").replace(".", "%2E")


def list_counter_id(listing: str, team: str, dimension: str = LISTED_IN_ALL, value: str = "") -> str:
    """The id of one of a list's counters (`list_counts`): the projector moves it, the query API reads it."""
    return f"{listing}|{team}|{dimension}|{value}"
