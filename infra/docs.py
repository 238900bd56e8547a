"""`GET /api/schema/` (our OpenAPI document of API v1 and what is beyond OCS), `GET /api/v2/schema/` (API v2's),
`GET /api/docs/` (Swagger UI showing either) and `GET /api/events/asyncapi.json` (our AsyncAPI document, of the
events), without authentication.

The UI works offline: its script and stylesheet come from the `swagger-ui-bundle` package and are served here.
"""

import json

from flask import Blueprint, Flask, Response, request
from swagger_ui_bundle import swagger_ui_path

from infra.web import API_MOUNTS, install_error_handlers, json_response, mount_api, revalidated
from schemas.openapi.document import TITLE, Route

SCHEMA_PATH = "/api/schema/"
V2_SCHEMA_PATH = "/api/v2/schema/"
DOCS_PATH = "/api/docs/"
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    # The top bar that picks the document: v1 or v2.
    "swagger-ui-standalone-preset.js": "text/javascript",
}
# Beside the event feed it describes, and like every team path under `/api/v1/` too.
ASYNCAPI_ROUTE = "/events/asyncapi.json"
# Every path this app answers: the front door routes exactly these to it.
DOCS_PATHS = (
    SCHEMA_PATH,
    V2_SCHEMA_PATH,
    DOCS_PATH,
    *(DOCS_PATH + name for name in ASSETS),
    *(prefix + ASYNCAPI_ROUTE for prefix, _ in API_MOUNTS),
)

# Relative URLs, so that the page also works behind a proxy that mounts the API under a prefix.
PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{TITLE}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script src="swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      urls: [{{url: "../schema/", name: "v1"}}, {{url: "../v2/schema/", name: "v2"}}],
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
    }});
  </script>
</body>
</html>
"""


def routes_of(*apps: Flask) -> list[Route]:
    """What the apps serve, as the OpenAPI document lists it: `/api/v1/` mounts and trailing-slash aliases (endpoints
    named `..._alias`) serve the same operations again, so they are left out, as are HEAD and OPTIONS."""
    routes = []
    for app in apps:
        for rule in app.url_map.iter_rules():
            endpoint = rule.endpoint.rsplit(".", 1)[-1]
            if endpoint == "static" or endpoint.endswith("_alias") or rule.rule.startswith("/api/v1/"):
                continue
            routes += [Route(rule.rule, endpoint, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def create_docs_app(document: dict, asyncapi: dict, v2_document: dict) -> Flask:
    """`document`: the OpenAPI document of v1; `asyncapi`: the AsyncAPI document; `v2_document`: the OpenAPI document
    of v2. Built without them, the app only declares its routes."""
    app = Flask("docs", static_folder=None)
    install_error_handlers(app)
    document, asyncapi, v2_document = json.dumps(document), json.dumps(asyncapi), json.dumps(v2_document)

    def openapi(text: str) -> Response:
        # As DRF answers an unknown `format`: not found.
        if request.args.get("format", "json") != "json":
            return json_response({"detail": "Not found."}, 404)
        return revalidated(Response(text, mimetype="application/json"))

    @app.get(SCHEMA_PATH)
    def schema():
        return openapi(document)

    @app.get(V2_SCHEMA_PATH)
    def schema_v2():
        return openapi(v2_document)

    @app.get(DOCS_PATH)
    def docs():
        return revalidated(Response(PAGE, mimetype="text/html"))

    assets = {name: (swagger_ui_path / name).read_bytes() for name in ASSETS}

    @app.get(DOCS_PATH + "<name>")
    def asset(name):
        if name not in assets:
            return json_response({"detail": "Not found."}, 404)
        return revalidated(Response(assets[name], mimetype=ASSETS[name]))

    events = Blueprint("event_documents", __name__)

    @events.get(ASYNCAPI_ROUTE)
    def asyncapi_document():
        return revalidated(Response(asyncapi, mimetype="application/json"))

    mount_api(app, events)
    return app
