"""A bounded memory of what was used last (infra/recent.py: the projector's session attributions, the API's news of
what was projected): kept values are found, and the least recently used leave first."""

from infra.recent import Recent


def attribution(session_id: str) -> dict:
    return {"_id": session_id, "experiment_id": "bot", "participant_id": "p", "platform": "api", "created_at": "t"}


def test_kept_values_are_found_and_the_least_recently_used_leave_first():
    recent = Recent(kept=2)
    recent.keep({"a": attribution("a"), "b": attribution("b")})
    assert recent.of(["a", "c"]) == {"a": attribution("a")}  # "a" is now the most recently used
    recent.keep({"c": attribution("c")})
    assert recent.of(["a", "b", "c"]) == {"a": attribution("a"), "c": attribution("c")}
