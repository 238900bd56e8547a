"""Structured logs: one JSON object a line, each carrying the request id of the work it belongs to.

A request gets an id (answered in `X-Request-Id`); a chat message's task id is that id, so one id follows
the message from the HTTP request through its event and the worker to the reply's event.
"""

import json
import logging
import time
import uuid
from contextvars import ContextVar

from flask import Flask, g, request

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("ocs.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for key in ("method", "path", "status", "duration_ms", "hops"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: int) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.formatter.converter = time.gmtime
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Libraries narrate every connection at INFO; their warnings and errors are what operators need,
    # and requests are logged once, by `ocs.access`.
    for noisy in ("kafka", "werkzeug", "httpx", "httpx2", "openai"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def install_request_ids(app: Flask) -> None:
    def assign():
        g.request_id = str(uuid.uuid4())
        g.request_started = time.perf_counter()
        REQUEST_ID.set(g.request_id)

    # First of all hooks: a request refused by an earlier one (authentication) still gets its id.
    app.before_request_funcs.setdefault(None, []).insert(0, assign)

    @app.after_request
    def answer(response):
        response.headers["X-Request-Id"] = g.request_id
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2),
            },
        )
        return response


def current_request_id() -> str | None:
    return REQUEST_ID.get()
