"""Building blocks of the operations' text: who may call (security), bodies, answers and parameters.

apispec resolves schema classes in place, so whatever holds one is built afresh for each operation; the path
parameters hold none and are shared."""

from schemas import responses as r

# Security schemes both versions' documents name (each under its version's name for OAuth2).
API_KEY_AUTH = {"type": "apiKey", "in": "header", "name": "X-api-key"}
TOKEN_AUTH = {"type": "http", "scheme": "bearer", "description": "an API key sent as `Authorization: Bearer <key>`"}
COOKIE_AUTH = {
    "type": "apiKey",
    "in": "cookie",
    "name": "sessionid",
    "description": "the session cookie `POST /api/auth/session/` sets, for pages on the team's allowed origins; "
    "unsafe methods also need `X-CSRFToken`",
}


def oauth2_scheme(scopes: dict[str, str]) -> dict:
    return {
        "type": "oauth2",
        "description": "an access token; a machine token (client credentials) works only for its allowlisted chatbots",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "/o/authorize/",
                "tokenUrl": "/o/token/",
                "refreshUrl": "/o/token/",
                "scopes": scopes,
            },
            "clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes},
        },
    }


TEAM = [{"apiKeyAuth": []}, {"tokenAuth": []}, {"oauth2": []}, {"cookieAuth": []}]
# Signing in takes any team credential but the cookie it sets.
SIGN_IN_CREDENTIALS = [{"apiKeyAuth": []}, {"tokenAuth": []}, {"oauth2": []}]
# `{}`: sessions of widget channels at auth level `none` need no credential.
CHAT = [{"sessionTokenAuth": []}, {"embedKeyAuth": []}, {}]
CHAT_START = [{"embedKeyAuth": []}, {"oauth2": ["chat:start"]}, {}]
OAUTH_CLIENT = [{"clientAuth": []}]
NO_AUTH: list = []


def json_body(schema, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def answer(description: str, *schemas, media: str = "application/json", headers: dict | None = None) -> dict:
    response: dict = {"description": description}
    if schemas:
        schema = schemas[0] if len(schemas) == 1 else {"anyOf": list(schemas)}
        response["content"] = {media: {"schema": schema}}
    if headers:
        response["headers"] = headers
    return response


def path_param(name: str, description: str, type_: str = "string", format_: str | None = None) -> dict:
    schema = {"type": type_, **({"format": format_} if format_ else {})}
    return {"in": "path", "name": name, "required": True, "description": description, "schema": schema}


def query_param(name: str, description: str, **schema) -> dict:
    return {
        "in": "query",
        "name": name,
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def page_params() -> list[dict]:
    return [
        query_param("cursor", "the pagination cursor (from `next` or `previous`)"),
        query_param("page_size", "results per page: default 100, at most 1500", type="integer"),
    ]


def unauthenticated() -> dict:
    header = {"schema": {"type": "string"}, "description": 'always `Bearer realm="api"`'}
    return answer("no credential, or an unknown or revoked one", r.Detail, headers={"WWW-Authenticate": header})


def forbidden_read_only() -> dict:
    return answer("a read-only API key", r.Detail)


def chat_refused() -> dict:
    return answer(
        "the caller may not use this session (also for a session that does not exist)", r.Detail, r.ChatAccessError
    )


def json_errors() -> dict:
    """415 of any endpoint that reads a JSON body (its 400s include the E1 body of a JSON parse error)."""
    return {"415": answer("the body is not `application/json`", r.Detail)}


SESSION_ID = path_param("id", "the session's id")
CHAT_SESSION_ID = path_param("session_id", "the chat session's id", format_="uuid")
EXPERIMENT_ID = path_param("experiment_id", "the chatbot's id", format_="uuid")
VERSION = path_param("version", "a version number; `0` is the published version", type_="integer")
