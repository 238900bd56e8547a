"""Flask plumbing shared by both API sides: error bodies, JSON bodies, validation and API-key authentication."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, g, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException, NotFound

from infra.credentials import secret_matches, split_api_key
from infra.rate_limits import client_address, throttle
from schemas.errors import ApiError, detail, from_validation_error

log = logging.getLogger(__name__)

NOT_AUTHENTICATED = "Authentication credentials were not provided."
FORBIDDEN = "You do not have permission to perform this action."
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


# Request bodies above these sizes are refused with 413 before they are read: JSON bodies, and uploads
# (room for one 50 MB file and its multipart framing, so oversize files get the SPEC's own 400).
MAX_JSON_BODY_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_BODY_BYTES = 64 * 1024 * 1024


def install_error_handlers(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_JSON_BODY_BYTES

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return json_response(exc.body, exc.status, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 405:
            return json_response({"detail": f'Method "{request.method}" not allowed.'}, 405)
        if exc.code == 404:
            return json_response({"detail": "Not found."}, 404)
        if exc.code == 413:
            return json_response({"detail": "Request body is too large."}, 413)
        return json_response({"detail": exc.description}, exc.code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"detail": "A server error occurred."}, 500)


def json_body():
    """The request's JSON body, refused as OCS does when it is not JSON."""
    if not request.get_data():
        return {}
    if request.mimetype != "application/json":
        raise detail(415, f'Unsupported media type "{request.content_type or ""}" in request.')
    try:
        body = json.loads(request.get_data(as_text=True), parse_constant=refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise detail(400, f"JSON parse error - {exc}") from None
    if nesting_depth(body) > MAX_JSON_DEPTH:
        raise detail(400, f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels")
    return body


# Deeper documents serve no client purpose and only risk recursion limits further down the pipeline.
MAX_JSON_DEPTH = 64


def nesting_depth(value) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            child
            for item in level
            if isinstance(item, (dict, list))
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return depth - 1 if depth else 0


def refuse_constant(name: str):
    raise ValueError(f"Out of range float values are not JSON compliant: {name}")


def validated(schema: Schema, data) -> dict:
    if not isinstance(data, dict):
        raise ApiError(
            400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]}
        )
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise from_validation_error(exc, data) from None


@dataclass(frozen=True)
class StoredKey:
    team: str
    secret_hash: str
    user: str
    read_only: bool
    revoked: bool


@dataclass(frozen=True)
class Caller:
    team: str
    user: str | None
    read_only: bool


def authenticate(lookup: Callable[[str], StoredKey | None]) -> Caller:
    """The team credential of this request: `X-api-key`, else `Authorization: Bearer <key>` (SPEC §1.2)."""
    key = request.headers.get("X-api-key")
    if key is None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else None
    if not key:
        raise detail(401, NOT_AUTHENTICATED, {"WWW-Authenticate": 'Bearer realm="api"'})
    parts = split_api_key(key)
    stored = lookup(parts[0]) if parts else None
    if stored is None or stored.revoked or not secret_matches(parts[1], stored.secret_hash):
        throttle("credentials", client_address())
        raise detail(401, "Invalid token.", {"WWW-Authenticate": 'Bearer realm="api"'})
    return Caller(team=stored.team, user=stored.user, read_only=stored.read_only)


# Chat endpoints admit callers by session capability, not by team credential (SPEC §1.6).
CHAT_PREFIXES = ("/api/chat/", "/api/v1/chat/")


def require_team_credential(app: Flask, lookup: Callable[[str], StoredKey | None]) -> None:
    """Authenticate and authorise every team-endpoint request; a 405 comes only after both (SPEC §0.3)."""

    @app.before_request
    def admit():
        if isinstance(request.routing_exception, NotFound) or request.path.startswith(CHAT_PREFIXES):
            return
        caller = authenticate(lookup)
        if caller.read_only and request.method not in SAFE_METHODS:
            raise detail(403, FORBIDDEN)
        g.caller = caller
        throttle("api", caller.team)


def base_url() -> str:
    return request.host_url
