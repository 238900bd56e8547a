"""Cursor pagination (SPEC §1.7): opaque cursors that round-trip, and 404 for any cursor not made for this listing;
how far a page's next window of creation time reaches."""

import base64
import json
from datetime import timedelta

import pytest

from query_api.queries.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    decode_cursor,
    encode_cursor,
    farther,
    page_size,
)
from schemas.errors import ApiError


def raw_cursor(value) -> str:
    """A cursor with arbitrary JSON inside, encoded the way real ones are."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("position", ["2030-01-01T00:00:00.000001Z|4f1c", "", "ünïcode|ÿ", "a" * 500])
def test_a_cursor_decodes_to_the_position_and_direction_it_was_made_with(position, reverse):
    assert decode_cursor("sessions", encode_cursor("sessions", position, reverse)) == (position, reverse)


def test_a_cursor_is_url_safe_text_without_padding():
    cursor = encode_cursor("sessions", "?&=/+" * 7, False)

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(encode_cursor("experiments", "x", False), id="another listing's cursor"),
        pytest.param("", id="empty"),
        pytest.param("!!!", id="not base64"),
        pytest.param("é", id="not ascii"),
        pytest.param("abcde", id="bad base64 length"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe").decode(), id="not utf-8"),
        pytest.param(raw_cursor("text"), id="json string"),
        pytest.param(raw_cursor(["sessions", "x", False]), id="json list"),
        pytest.param(raw_cursor(None), id="json null"),
        pytest.param(raw_cursor({"l": "sessions", "p": "x"}), id="missing direction"),
        pytest.param(raw_cursor({"l": "sessions", "p": 5, "r": False}), id="position not text"),
        pytest.param(raw_cursor({"l": "sessions", "p": "x", "r": 0}), id="direction not boolean"),
    ],
)
def test_a_foreign_or_malformed_cursor_is_an_invalid_cursor_404(cursor):
    with pytest.raises(ApiError) as raised:
        decode_cursor("sessions", cursor)

    assert (raised.value.status, raised.value.body) == (404, {"detail": "Invalid cursor"})


@pytest.mark.parametrize(
    "raw, size",
    [
        (None, DEFAULT_PAGE_SIZE),
        ("5", 5),
        ("0", DEFAULT_PAGE_SIZE),
        ("-3", DEFAULT_PAGE_SIZE),
        ("abc", DEFAULT_PAGE_SIZE),
        ("5000", MAX_PAGE_SIZE),
    ],
)
def test_page_size_falls_back_to_100_and_caps_at_1500(raw, size):
    assert page_size(raw) == size


@pytest.mark.parametrize(
    ("found", "reach_s"),
    [
        (25, 5.0),  # the probe met the list's average density: the page is full at 4x as far, with a margin
        (50, 2.5),  # twice as dense: half as far
        (99, 1.2626),  # all but one: a little farther
        (1, 16.0),  # much sparser than the average: at most 16x as far
        (0, 4.0),  # nothing yet: 4x as far
    ],
)
def test_a_pages_next_window_reaches_where_the_density_met_so_far_fills_it(found, reach_s):
    assert farther(timedelta(seconds=1), found, 100).total_seconds() == pytest.approx(reach_s, abs=1e-3)
