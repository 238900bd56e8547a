"""The text of the OAuth2 server's operations (SPEC §1.1), and of the deployment's own (health, metrics)."""

from schemas import responses as r
from schemas.openapi.building_blocks import NO_AUTH, OAUTH_CLIENT, TEAM, answer, query_param, unauthenticated


def form_body(properties: dict, required: list[str]) -> dict:
    schema = {"type": "object", "properties": properties, **({"required": required} if required else {})}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


STRING = {"type": "string"}
TOKEN_FORM = form_body({"token": STRING, "token_type_hint": {"enum": ["access_token", "refresh_token"]}}, ["token"])


def oauth_refused() -> dict:
    return {"400": answer("a malformed request", r.OAuthError), "401": answer("unknown client", r.OAuthError)}


def oauth_operations() -> dict:
    authorize_params = [
        {"in": "query", "name": name, "required": True, "schema": STRING}
        for name in ("response_type", "client_id", "code_challenge", "code_challenge_method")
    ] + [query_param(name, name) for name in ("redirect_uri", "scope", "state")]
    authorize = {
        "tags": ["OAuth"],
        "security": TEAM[:2],
        "parameters": authorize_params,
        "responses": {
            "302": {"description": "to the redirect URI, with `code` or `error`"},
            "400": answer("an unknown client or redirect URI", r.OAuthError),
            "401": unauthenticated(),
            "403": answer("not an API key", r.Detail),
        },
    }
    return {
        "oauth_authorize_describe": {
            **authorize,
            "summary": "What the client asks for (authorization code with PKCE S256)",
            "description": "The resource owner is the user of the API key the request carries.",
            "responses": {**authorize["responses"], "200": answer("the request", r.ConsentRequest)},
        },
        "oauth_authorize": {
            **authorize,
            "summary": "Consent (`allow=yes`) or refuse; redirects to the client",
            "requestBody": form_body({"allow": {"enum": ["yes", "no"]}}, []),
        },
        "oauth_token": {
            "summary": "Issue a token: authorization_code, refresh_token or client_credentials",
            "tags": ["OAuth"],
            "security": OAUTH_CLIENT,
            "requestBody": form_body(
                {
                    "grant_type": {"enum": ["authorization_code", "refresh_token", "client_credentials"]},
                    **{name: STRING for name in ("code", "redirect_uri", "code_verifier", "refresh_token")},
                    **{name: STRING for name in ("scope", "client_id", "client_secret")},
                },
                ["grant_type"],
            ),
            "responses": {"200": answer("the token", r.TokenIssued), **oauth_refused()},
        },
        "oauth_revoke_token": {
            "summary": "Revoke an access or refresh token (both stop working)",
            "tags": ["OAuth"],
            "security": OAUTH_CLIENT,
            "requestBody": TOKEN_FORM,
            "responses": {"200": answer("revoked, or not this client's token"), **oauth_refused()},
        },
        "oauth_introspect": {
            "summary": "Whether a token is active, and what it carries (RFC 7662)",
            "tags": ["OAuth"],
            "security": OAUTH_CLIENT,
            "requestBody": TOKEN_FORM,
            "responses": {"200": answer("the token's state", r.TokenIntrospection), **oauth_refused()},
        },
    }


def deployment_operations() -> dict:
    return {
        "healthz": {
            "summary": "The status of every component (beyond OCS)",
            "tags": ["Operations"],
            "security": NO_AUTH,
            "responses": {
                "200": answer("every component is up, and nothing is stuck or parked", r.HealthReport),
                "503": answer("some component is down or stuck, or events are parked", r.HealthReport),
            },
        },
        "readyz": {
            "summary": "Whether this process reaches the event store, MongoDB and Kafka (beyond OCS)",
            "tags": ["Operations"],
            "security": NO_AUTH,
            "responses": {
                "200": answer("every dependency is reachable", r.ReadinessReport),
                "503": answer("some dependency is not", r.ReadinessReport),
            },
        },
        "metrics": {
            "summary": "Prometheus metrics, text format (beyond OCS)",
            "tags": ["Operations"],
            "security": NO_AUTH,
            "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}},
        },
    }
