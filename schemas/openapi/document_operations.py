"""The text of the API documents' own operations (beyond OCS): this OpenAPI document, the page that shows it, and the
AsyncAPI document of the events. Each is served without a credential."""

from schemas import responses as r
from schemas.openapi.building_blocks import NO_AUTH, answer, path_param, query_param

DOCUMENT = {"type": "object", "additionalProperties": {}}


def document_operations() -> dict:
    return {
        "schema": {
            "summary": "This OpenAPI document",
            "tags": ["Documents"],
            "security": NO_AUTH,
            "parameters": [query_param("format", "`json`, the only format (the default)")],
            "responses": {
                "200": answer("the OpenAPI 3 document", DOCUMENT),
                "304": answer("unchanged since the `ETag` sent as `If-None-Match`"),
                "404": answer("a format other than `json`", r.Detail),
            },
        },
        "docs": {
            "summary": "A page that shows this document (Swagger UI, served from here)",
            "tags": ["Documents"],
            "security": NO_AUTH,
            "responses": {
                "200": {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}},
                "304": answer("unchanged since the `ETag` sent as `If-None-Match`"),
            },
        },
        "asset": {
            "summary": "The page's script and stylesheet",
            "tags": ["Documents"],
            "security": NO_AUTH,
            "parameters": [
                path_param("name", "`swagger-ui-bundle.js`, `swagger-ui-standalone-preset.js` or `swagger-ui.css`")
            ],
            "responses": {
                "200": {"description": "the file", "content": {"*/*": {"schema": {"type": "string"}}}},
                "304": answer("unchanged since the `ETag` sent as `If-None-Match`"),
                "404": answer("any other name", r.Detail),
            },
        },
        "asyncapi_document": {
            "summary": "The AsyncAPI 3.0 document of the events",
            "description": "Every place a subscriber receives events (the Kafka topics, the team's feed "
            "`GET /api/events/` and stream `GET /api/events/stream/`, webhook deliveries) and exactly which event "
            "types each carries, each with its envelope and payload schema, generated from the schemas that "
            "docs/events.md is generated from.",
            "tags": ["Documents"],
            "security": NO_AUTH,
            "responses": {
                "200": answer("the AsyncAPI 3.0 document", DOCUMENT),
                "304": answer("unchanged since the `ETag` sent as `If-None-Match`"),
            },
        },
    }
