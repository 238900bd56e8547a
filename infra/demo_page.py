"""`GET /demo/<chatbot_id>`: the server's own chat page (issue 17), what a newcomer opens first and a reference
for widget authors, served only where `OCS_DEMO_PAGE` is on (`ocs up` turns it on).

The page is one file, `demo_page.html`, with its script and style inline and nothing loaded from elsewhere: it
talks to the chat API as any widget does, and reads the chatbot's id from its own URL, so it is served as it is.
"""

from importlib.resources import files

from flask import Flask, Response

from infra.web import install_error_handlers

DEMO_ROUTE = "/demo/<chatbot_id>"
# The browser enforces what the page promises: nothing from another origin, its own inline script and style,
# calls to this server only, and no other site framing it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def create_demo_app() -> Flask:
    app = Flask("demo_page", static_folder=None)
    install_error_handlers(app)
    page = files("infra").joinpath("demo_page.html").read_bytes()

    @app.get(DEMO_ROUTE)
    def demo_page(chatbot_id):
        response = Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Cache-Control"] = "no-cache"
        return response

    return app
