"""infra.web.answers_errors_as_openai: every error of a blueprint's views in OpenAI's shape, with the status and text
the rest of the API gives, while other blueprints keep theirs."""

from flask import Blueprint, Flask

from infra.web import answers_errors_as_openai, install_error_handlers
from schemas.errors import detail, field_errors, openai_error


def client():
    app = Flask("errors")
    install_error_handlers(app)
    openai_style = Blueprint("openai_style", __name__)
    answers_errors_as_openai(openai_style, r"/.*")
    plain = Blueprint("plain", __name__)
    raised = {
        "detail": detail(404, "No Experiment matches the given query."),
        "fields": field_errors({"participant": "This field is required."}),
        "openai": openai_error(400, "'tools' is not supported by this server", "tools"),
        "crash": RuntimeError("boom"),
    }
    for blueprint in (openai_style, plain):

        @blueprint.post("/<name>", endpoint="raise")
        def raise_it(name):
            raise raised[name]

    app.register_blueprint(openai_style, url_prefix="/openai")
    app.register_blueprint(plain, url_prefix="/plain")
    return app.test_client()


def openai_body(message: str, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": "error", "param": param, "code": None}}


def test_every_error_of_the_blueprint_is_in_openai_shape():
    http = client()
    answers = {name: http.post(f"/openai/{name}") for name in ("detail", "fields", "openai", "crash")}
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "detail": 404,
        "fields": 400,
        "openai": 400,
        "crash": 500,
    }
    assert answers["detail"].json == openai_body("No Experiment matches the given query.")
    assert answers["fields"].json == openai_body("{'participant': 'This field is required.'}")
    assert answers["openai"].json == openai_body("'tools' is not supported by this server", "tools")
    assert answers["crash"].json == openai_body("A server error occurred.")
    # Refused while routing, before any blueprint is chosen: a method no route serves, a path no route matches.
    assert http.get("/openai/detail").json == openai_body('Method "GET" not allowed.')
    assert http.post("/openai/no/such/route").json == openai_body("Not found.")


def test_other_blueprints_keep_their_shapes():
    http = client()
    assert http.post("/plain/detail").json == {"detail": "No Experiment matches the given query."}
    assert http.post("/plain/crash").json == {"detail": "A server error occurred."}
    assert http.post("/plain/no/such/route").json == {"detail": "Not found."}
