"""The projector keeps the attributions of the sessions it counted last (fixed at each session's creation), so a
chat's next events count without reading its session again; the least recently counted leave first."""

from projectors.counting import Attributions


def attribution(session_id: str) -> dict:
    return {"_id": session_id, "experiment_id": "bot", "participant_id": "p", "platform": "api", "created_at": "t"}


def test_kept_attributions_are_found_and_the_least_recently_counted_leave_first():
    attributions = Attributions(kept=2)
    attributions.keep({"a": attribution("a"), "b": attribution("b")})
    assert attributions.of(["a", "c"]) == {"a": attribution("a")}  # "a" is now the most recently counted
    attributions.keep({"c": attribution("c")})
    assert attributions.of(["a", "b", "c"]) == {"a": attribution("a"), "c": attribution("c")}
