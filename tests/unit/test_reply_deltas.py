"""A reply's deltas (workers/reply_deltas.py): the first piece goes out at once, later ones together at most every
COALESCE_S, the last with `done`; offsets add up to the text."""

from workers import reply_deltas
from workers.reply_deltas import COALESCE_S, ReplyDeltas


class Recorded:
    def __init__(self):
        self.records = []

    def send(self, record: dict) -> None:
        self.records.append(record)


def test_pieces_are_coalesced_and_their_offsets_add_up(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(reply_deltas.time, "monotonic", lambda: now[0])
    publisher = Recorded()
    deltas = ReplyDeltas(publisher, "session", "task")
    for piece in ("Hello", " there", ",", " how"):
        deltas.piece(piece)
        now[0] += COALESCE_S / 4
    now[0] += COALESCE_S
    deltas.piece(" are")
    deltas.piece(" you")
    deltas.finish()
    assert [(r["offset"], r["delta"], r["done"]) for r in publisher.records] == [
        (0, "Hello", False),  # at once: what a user waits for
        (5, " there, how are", False),  # the next piece after COALESCE_S, with those held back
        (20, " you", True),
    ]
    assert {(r["session_id"], r["task_id"]) for r in publisher.records} == {("session", "task")}


def test_a_reply_with_nothing_more_to_say_still_ends_with_done():
    publisher = Recorded()
    deltas = ReplyDeltas(publisher, "s", "t")
    deltas.piece("All of it")
    deltas.finish()
    assert [(r["delta"], r["done"]) for r in publisher.records] == [("All of it", False), ("", True)]
