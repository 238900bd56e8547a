"""What one API process keeps of the replies being generated (query_api/queries/reply_deltas.py): each reply's text
so far, passed-on deltas, and nothing of a reply whose beginning it has not seen or that is done."""

from query_api.queries.reply_deltas import Delta, DeltaFeed


class Pushed:
    def __init__(self):
        self.items = []

    def push(self, item) -> None:
        self.items.append(item)


def record(offset: int, delta: str, done: bool = False, task: str = "t1") -> dict:
    return {"session_id": "s1", "task_id": task, "offset": offset, "delta": delta, "done": done}


def test_deltas_are_passed_on_and_the_text_so_far_kept_until_done():
    feed, stream = DeltaFeed("unused:9092", 1), Pushed()
    feed.subscribers["s1"].add(stream)
    feed.apply(record(0, "Hello"))
    feed.apply(record(5, " world"))
    assert feed.replies["s1"]["t1"].text == "Hello world"
    feed.apply(record(11, "!", done=True))
    assert stream.items == [Delta("t1", 0, "Hello"), Delta("t1", 5, " world"), Delta("t1", 11, "!")]
    assert "s1" not in feed.replies


def test_a_reply_started_again_starts_afresh_and_one_seen_from_its_middle_is_not_kept():
    feed = DeltaFeed("unused:9092", 1)
    feed.apply(record(0, "Hel"))
    feed.apply(record(0, "Hi"))  # a restarted worker
    assert feed.replies["s1"]["t1"].text == "Hi"
    feed.apply(record(40, "...", task="t2"))  # its beginning came before this process followed the topic
    assert "t2" not in feed.replies["s1"]
    feed.apply(record(9, "lost one before"))  # a gap: the text can no longer be told whole
    assert "s1" not in feed.replies
