"""Teams, API keys, OAuth clients and tokens and cookie sessions, as the query API authenticates from them."""

from collections.abc import Callable

from projectors.projections.writes import Write, change, create
from schemas.read_models import (
    API_KEYS,
    COOKIE_SESSIONS,
    OAUTH_CLIENTS,
    OAUTH_TOKENS,
    TEAMS,
)


def team_created(envelope: dict, data: dict) -> list[Write]:
    return [create(TEAMS, envelope, {"name": data["name"]})]


def team_allowed_origins_changed(envelope: dict, data: dict) -> list[Write]:
    return [change(TEAMS, envelope, {"$set": {"allowed_origins": data["origins"]}})]


def team_model_prices_changed(envelope: dict, data: dict) -> list[Write]:
    update = {"$set": {"price_currency": data["currency"], "model_prices": data["prices"]}}
    return [change(TEAMS, envelope, update)]


def api_key_created(envelope: dict, data: dict) -> list[Write]:
    return [
        create(
            API_KEYS,
            envelope,
            {
                "prefix": data["prefix"],
                "secret_hash": data["secret_hash"],
                "name": data["name"],
                "user": data["user"],
                "read_only": data["read_only"],
                "roles": data["roles"],
                "expires_at": data["expires_at"],
                "revoked": False,
            },
        )
    ]


def revoked(collection: str) -> Callable[[dict, dict], list[Write]]:
    return lambda envelope, data: [change(collection, envelope, {"$set": {"revoked": True}})]


def oauth_client_created(envelope: dict, data: dict) -> list[Write]:
    """What the client may do; its secret stays on the write model, which authenticates clients."""
    fields = ("client_id", "name", "grant_type", "scopes", "chatbots", "redirect_uris", "token_lifetime_s")
    return [create(OAUTH_CLIENTS, envelope, {field: data[field] for field in fields})]


def oauth_token_created(envelope: dict, data: dict) -> list[Write]:
    """What the query API authenticates access tokens with; refresh tokens are redeemed on the write model."""
    fields = ("client_id", "user", "roles", "scopes", "chatbots", "access_hash", "expires_in")
    return [
        create(
            OAUTH_TOKENS,
            envelope,
            {**{field: data[field] for field in fields}, "issued_at": envelope["occurred_at"], "revoked": False},
        )
    ]


def cookie_session_created(envelope: dict, data: dict) -> list[Write]:
    fields = ("credential", "secret_hash", "lifetime_s")
    return [
        create(
            COOKIE_SESSIONS,
            envelope,
            {**{field: data[field] for field in fields}, "started_at": envelope["occurred_at"], "ended": False},
        )
    ]


def cookie_session_ended(envelope: dict, data: dict) -> list[Write]:
    return [change(COOKIE_SESSIONS, envelope, {"$set": {"ended": True}})]
