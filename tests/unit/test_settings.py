"""Settings read from the environment: the event feeds' and the topics' retention windows."""

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


def test_the_topics_keep_read_records_a_week_and_on_the_local_broker_a_minute(tmp_path):
    week = 7 * 24 * 3600 * 1000
    assert settings(tmp_path, OCS_KAFKA_BOOTSTRAP="kafka:9092").kafka_retention_ms == week
    assert settings(tmp_path).kafka_retention_ms == 60_000  # `ocs up`'s local broker holds its records in memory
    assert settings(tmp_path, OCS_KAFKA_RETENTION_MS="-1").kafka_retention_ms == -1
    assert settings(tmp_path, OCS_KAFKA_BOOTSTRAP="kafka:9092", OCS_KAFKA_RETENTION_MS="0").kafka_retention_ms == 0


@pytest.mark.parametrize("window", ["-2", "a week"])
def test_a_topic_retention_of_nonsense_is_refused(tmp_path, window):
    with pytest.raises(ValueError):
        settings(tmp_path, OCS_KAFKA_RETENTION_MS=window)
