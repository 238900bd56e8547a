"""Logs are JSON lines that carry the id of the request whose work they describe."""

import json
import logging

from infra.logs import REQUEST_ID, JsonFormatter


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("ocs.test", logging.INFO, __file__, 1, message, (), None)


def test_a_log_line_is_json_with_the_current_request_id():
    token = REQUEST_ID.set("req-123")
    try:
        line = json.loads(JsonFormatter().format(record("reply recorded")))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "reply recorded" and line["request_id"] == "req-123"
    assert line["level"] == "INFO" and line["logger"] == "ocs.test" and line["time"].endswith("Z")


def test_work_outside_any_request_has_no_request_id():
    assert "request_id" not in json.loads(JsonFormatter().format(record("idle")))
