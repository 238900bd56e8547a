from pathlib import Path

from schemas.event_docs import render


def test_docs_events_md_is_generated_from_the_current_schemas():
    committed = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
    assert committed == render(), "regenerate: python -m schemas.event_docs > docs/events.md"
