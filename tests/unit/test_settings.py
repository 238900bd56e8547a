"""Settings read from the environment: the event feeds' retention window."""

from datetime import timedelta

import pytest

from infra.config import load_settings


def settings(tmp_path, **environ):
    return load_settings(tmp_path, environ={"OCS_SECRET_KEY": "unused", **environ})


def test_the_feeds_keep_every_event_unless_a_retention_window_is_set(tmp_path):
    assert settings(tmp_path).event_feed_retention is None
    assert settings(tmp_path, OCS_EVENT_FEED_RETENTION_DAYS="").event_feed_retention is None
    assert settings(tmp_path, OCS_EVENT_FEED_RETENTION_DAYS="30").event_feed_retention == timedelta(days=30)
    assert settings(tmp_path, OCS_EVENT_FEED_RETENTION_DAYS="0.5").event_feed_retention == timedelta(hours=12)


@pytest.mark.parametrize("days", ["0", "-1", "a week"])
def test_a_retention_window_of_nothing_or_nonsense_is_refused(tmp_path, days):
    with pytest.raises(ValueError):
        settings(tmp_path, OCS_EVENT_FEED_RETENTION_DAYS=days)
