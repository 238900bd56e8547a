"""Flask plumbing shared by both API sides: error bodies, JSON bodies and validation."""

import json
import logging
import math
import re
from io import BytesIO

from flask import Blueprint, Flask, Response, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import parse_form_data

from schemas.errors import ApiError, detail, field_errors, from_validation_error, openai_error

log = logging.getLogger(__name__)


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def revalidated(response: Response) -> Response:
    """For what is the same until the next deploy: clients revalidate it (ETag, `If-None-Match`: 304) instead of
    downloading it again."""
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


# Request bodies above these sizes are refused with 413 before they are read: JSON bodies, and uploads
# (room for one 50 MB file and its multipart framing, so oversize files get the SPEC's own 400).
MAX_JSON_BODY_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_BODY_BYTES = 64 * 1024 * 1024


def install_error_handlers(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_JSON_BODY_BYTES
    app.config.setdefault(OPENAI_SHAPED, [])

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return json_response(exc.body, exc.status, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.blueprint is None and any(path.fullmatch(request.path) for path in app.config[OPENAI_SHAPED]):
            return json_response(openai_error(exc.code, http_error_text(exc)).body, exc.code)
        return json_response({"detail": http_error_text(exc)}, exc.code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        return json_response({"detail": logged_server_error()}, 500)


def logged_server_error() -> str:
    """What a client hears of an error nobody expected, once it is logged with its traceback."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return "A server error occurred."


def http_error_text(exc: HTTPException) -> str:
    if exc.code == 405:
        return f'Method "{request.method}" not allowed.'
    if exc.code == 404:
        return "Not found."
    if exc.code == 413:
        return "Request body is too large."
    return exc.description


# The app's paths that no route matched but that belong to a blueprint answering errors in OpenAI's shape.
OPENAI_SHAPED = "openai_shaped_paths"


def answers_errors_as_openai(blueprint: Blueprint, own_paths: str) -> None:
    """Every error of the blueprint's views in OpenAI's shape, which OpenAI's clients read; statuses and texts stay
    the ones the rest of the API gives. `own_paths`: a regular expression of the paths, below the blueprint's
    mount, that are the blueprint's even where none of its routes matches them (an id of the wrong form): their
    404s and 405s, answered by the app's routing, take that shape too."""
    blueprint.record(
        lambda state: state.app.config.setdefault(OPENAI_SHAPED, []).append(
            re.compile(re.escape(state.url_prefix or "") + own_paths)
        )
    )

    @blueprint.errorhandler(ApiError)
    def api_error(exc: ApiError):
        shaped = exc if isinstance(exc.body.get("error"), dict) else openai_error(exc.status, exc.message())
        return json_response(shaped.body, exc.status, exc.headers)

    @blueprint.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return json_response(openai_error(exc.code, http_error_text(exc)).body, exc.code)

    @blueprint.errorhandler(Exception)
    def unexpected(exc: Exception):
        return json_response(openai_error(500, logged_server_error()).body, 500)


def json_body(refuse_field=field_errors):
    """The request's JSON body, refused as OCS does when it is not JSON. Beyond OCS, JSON that nothing after this
    could store is refused too: numbers out of a double's range, and text with unpaired surrogates (which no
    UTF-8 encoder writes), the latter as a field error made by `refuse_field` ({field: [text]})."""
    if not request.get_data():
        return {}
    if request.mimetype != "application/json":
        raise detail(415, f'Unsupported media type "{request.content_type or ""}" in request.')
    text = request.get_data(as_text=True)
    try:
        body = json.loads(text, parse_constant=refuse_constant, parse_float=finite_float)
    except (ValueError, RecursionError) as exc:
        raise detail(400, f"JSON parse error - {exc}") from None
    if nesting_depth(body) > MAX_JSON_DEPTH:
        raise detail(400, f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels")
    # Decoding the bytes replaces what is not UTF-8, so a surrogate can only come from a `\uD8xx`-style escape.
    if SURROGATE_ESCAPE.search(text) and (field := field_with_unpaired_surrogate(body)) is not None:
        raise refuse_field({field: [UNPAIRED_SURROGATE]})
    return body


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
UNPAIRED_SURROGATE = "Text must be valid Unicode: it has an unpaired surrogate."


def field_with_unpaired_surrogate(body) -> str | None:
    """The top-level field holding text with an unpaired surrogate (`non_field_errors` when it is not a field's)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if has_unpaired_surrogate(key):
                return "non_field_errors"
            if has_unpaired_surrogate(value):
                return key
        return None
    return "non_field_errors" if has_unpaired_surrogate(body) else None


def has_unpaired_surrogate(value) -> bool:
    level = [value]
    while level:
        children = []
        for item in level:
            if isinstance(item, str):
                try:
                    item.encode()
                except UnicodeEncodeError:
                    return True
            elif isinstance(item, dict):
                children.extend(item.keys())
                children.extend(item.values())
            elif isinstance(item, list):
                children.extend(item)
        level = children
    return False


def finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"Out of range float values are not JSON compliant: {text[:40]}")
    return number


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


def multipart_form():
    """(form fields, files) of a multipart request. Part headers are UTF-8 (RFC 7578); werkzeug drops the whole form
    when one is not, so a header in another charset (a Latin-1 filename, from older clients) is read as Latin-1."""
    raw = request.get_data()
    boundary = request.mimetype_params.get("boundary", "").encode("latin-1", "replace")
    recoded = utf8_part_headers(raw, boundary) if boundary else raw
    if recoded is raw:
        return request.form, request.files
    environ = {**request.environ, "wsgi.input": BytesIO(recoded), "CONTENT_LENGTH": str(len(recoded))}
    _, form, files = parse_form_data(environ, max_content_length=request.max_content_length)
    return form, files


def utf8_part_headers(body: bytes, boundary: bytes) -> bytes:
    """`body` with each part's header block that is not UTF-8 re-encoded from Latin-1; `body` itself if none
    (found without copying the parts' contents)."""
    delimiter = b"--" + boundary
    pieces, copied_up_to = [], 0
    at = body.find(delimiter)
    while at != -1:
        headers_start = at + len(delimiter)
        headers_end = body.find(b"\r\n\r\n", headers_start)
        if headers_end == -1:
            break  # the closing delimiter
        try:
            body[headers_start:headers_end].decode()
        except UnicodeDecodeError:
            pieces += [body[copied_up_to:headers_start], body[headers_start:headers_end].decode("latin-1").encode()]
            copied_up_to = headers_end
        at = body.find(delimiter, headers_end)
    return b"".join([*pieces, body[copied_up_to:]]) if pieces else body


def base_url() -> str:
    return request.host_url


# Every /api/ path is also served under /api/v1/ (SPEC §0.2); URLs inside bodies use the /api/ form.
API_MOUNTS = (("/api", ""), ("/api/v1", "_v1"))
# API v2 has its own paths, under /api/v2/ only: none of them is a v1 path too.
API_V2_MOUNT = "/api/v2"


def mount_api(app: Flask, *blueprints) -> None:
    for prefix, suffix in API_MOUNTS:
        for blueprint in blueprints:
            app.register_blueprint(blueprint, url_prefix=prefix, name=f"{blueprint.name}{suffix}")


def mount_api_v2(app: Flask, *blueprints) -> None:
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix=API_V2_MOUNT)
