"""Facts that never change once they exist (whose task a task is, what admission needs of a session), kept by each
API process after its first read of them: a widget polling every 100 ms then costs one read per poll, not two."""

import threading
from collections.abc import Callable


class Remembered:
    """`load(key)`: the fact, or None while it does not exist (never remembered, so it is read again next time);
    at most `size` facts are kept, the oldest forgotten first."""

    def __init__(self, load: Callable[[str], object | None], size: int = 20_000):
        self.load = load
        self.size = size
        self.known: dict[str, object] = {}
        self.lock = threading.Lock()

    def get(self, key: str):
        fact = self.known.get(key)
        if fact is None:
            fact = self.load(key)
            if fact is not None:
                with self.lock:
                    if len(self.known) >= self.size:
                        del self.known[next(iter(self.known))]
                    self.known[key] = fact
        return fact
