"""The chat page (issue 17) is served at /demo/<chatbot_id> where OCS_DEMO_PAGE is on, which `ocs up` does by
default and production does not, and is a page of its own origin only."""

import re
import uuid
from unittest.mock import Mock

import pytest
from werkzeug.test import Client

from command_api.http import app as command_app
from infra.config import load_settings
from infra.wiring import stack
from infra.wiring.bootstrap import System
from infra.wiring.frontdoor import FrontDoor
from query_api.http import app as query_app

PAGE = f"/demo/{uuid.uuid4()}"


def front_door(tmp_path, **environ) -> Client:
    # Route tables only: the sides' dependencies are never called for these paths.
    command = command_app.create_app(*(Mock() for _ in range(8)))
    query = query_app.create_app(*(Mock() for _ in range(8)))
    settings = load_settings(tmp_path, environ={"OCS_SECRET_KEY": "unused", **environ})
    return Client(FrontDoor(command, query, System(settings).shared_routes(), Mock()))


def test_the_page_is_off_unless_configured_and_on_under_ocs_up(tmp_path, monkeypatch):
    assert load_settings(tmp_path, environ={"OCS_SECRET_KEY": "unused"}).demo_page is False
    for text, on in (("true", True), ("1", True), ("YES", True), ("false", False), ("0", False), ("", False)):
        assert load_settings(tmp_path, environ={"OCS_SECRET_KEY": "unused", "OCS_DEMO_PAGE": text}).demo_page is on
    monkeypatch.delenv("OCS_DEMO_PAGE", raising=False)
    assert stack.environment()["OCS_DEMO_PAGE"] == "true"
    monkeypatch.setenv("OCS_DEMO_PAGE", "false")  # the environment still has the last word
    assert stack.environment()["OCS_DEMO_PAGE"] == "false"


def test_where_the_page_is_off_its_path_is_not_found(tmp_path):
    response = front_door(tmp_path).get(PAGE)
    assert response.status_code == 404 and response.json == {"detail": "Not found."}


def test_where_the_page_is_on_it_is_served_for_any_chatbot_and_loads_nothing_from_elsewhere(tmp_path):
    door = front_door(tmp_path, OCS_DEMO_PAGE="true")
    response = door.get(PAGE)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<script>" in html and "<style>" in html  # inline: one file
    assert all(link.startswith("data:") for link in re.findall(r'(?:src|href)="([^"]*)"', html))
    assert "@import" not in html and "url(" not in html
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert door.get("/demo/another-chatbot").data == response.data  # the page reads the id from its URL


@pytest.mark.parametrize("path", ["/demo/", "/demo", f"{PAGE}/", f"{PAGE}/more"])
def test_only_the_page_path_itself_is_the_page(tmp_path, path):
    assert front_door(tmp_path, OCS_DEMO_PAGE="true").get(path).status_code == 404


def test_the_page_only_reads(tmp_path):
    assert front_door(tmp_path, OCS_DEMO_PAGE="true").post(PAGE).status_code == 405
