"""Teams and their API keys."""

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from command_api import commands
from command_api.domain.api_key import ApiKey, api_key_id
from command_api.domain.team import Team, team_id
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.secrets import hash_secret, new_api_key
from schemas.errors import detail
from schemas.instants import utc_iso
from schemas.roles import ROLES


@dataclass(frozen=True)
class Outcome:
    """What a command answers, and the aggregate it changed (whose read model a caller may wait for)."""

    body: dict
    aggregate: object


SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


def require_team(app: OcsApplication, slug: str) -> Team:
    team = load(app, team_id(slug), Team)
    if team is None:
        raise detail(404, f"team {slug!r} does not exist")
    return team


def create_team(command: commands.CreateTeam, app: OcsApplication) -> Outcome:
    if not SLUG.fullmatch(command.slug):
        raise detail(400, f"invalid team slug {command.slug!r}: use lowercase letters, digits, '-' and '_'")
    if load(app, team_id(command.slug), Team) is not None:
        raise detail(409, f"team {command.slug!r} already exists")
    team = Team(id=team_id(command.slug), team=command.slug, name=command.name)
    app.save(team)
    return Outcome({"slug": team.team, "name": team.name}, team)


# An origin is what a browser sends in `Origin`: scheme, host and port, nothing else.
MAX_ALLOWED_ORIGINS = 50
MAX_ORIGIN_LENGTH = 300


def origin(text: str) -> str:
    """`text` as browsers spell an origin (lowercase scheme and host), or a 400 saying what an origin is."""
    try:
        parts = urlsplit(text)
        valid = (
            len(text) <= MAX_ORIGIN_LENGTH
            and parts.scheme in ("http", "https")
            and parts.hostname
            and parts.path in ("", "/")
            and not (parts.query or parts.fragment or parts.username or parts.password)
        )
        port = parts.port
    except ValueError:
        valid = False
    if not valid:
        raise detail(400, f"not an origin (http(s)://host[:port], at most {MAX_ORIGIN_LENGTH} characters): {text!r}")
    return f"{parts.scheme}://{parts.hostname}{f':{port}' if port else ''}"


def set_allowed_origins(command: commands.SetAllowedOrigins, app: OcsApplication) -> Outcome:
    team = require_team(app, command.team)
    if len(command.origins) > MAX_ALLOWED_ORIGINS:
        raise detail(400, f"at most {MAX_ALLOWED_ORIGINS} allowed origins per team")
    team.allow_origins(list(dict.fromkeys(origin(text) for text in command.origins)))
    app.save(team)
    return Outcome({"team": team.team, "allowed_origins": team.allowed_origins}, team)


def require_roles(roles) -> None:
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise detail(400, f"unknown role(s) {', '.join(unknown)}: use {', '.join(ROLES)}")


def instant(text: str) -> str:
    """An ISO-8601 instant in the one text form (UTC when it names no zone)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise detail(400, f"not an ISO-8601 instant: {text!r}") from None
    return utc_iso(parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc))


def issue_api_key(command: commands.IssueApiKey, app: OcsApplication) -> Outcome:
    require_team(app, command.team)
    require_roles(command.roles)
    prefix, secret, key = new_api_key()
    api_key = ApiKey(
        id=api_key_id(prefix),
        team=command.team,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        name=command.name,
        user=command.user or f"admin@{command.team}",
        read_only=command.read_only,
        roles=list(command.roles),
        expires_at=instant(command.expires_at) if command.expires_at else None,
    )
    app.save(api_key)
    return Outcome(
        {"key": key, "read_only": api_key.read_only, "roles": api_key.roles, "expires_at": api_key.expires_at},
        api_key,
    )


def revoke_api_key(command: commands.RevokeApiKey, app: OcsApplication) -> Outcome:
    api_key = load(app, api_key_id(command.prefix), ApiKey)
    if api_key is None:
        raise detail(404, f"no API key with prefix {command.prefix!r}")
    api_key.revoke()
    app.save(api_key)
    return Outcome({"revoked": True}, api_key)
