"""A bounded memory of what was used last: the values of at most `kept` keys, the least recently used leaving first.
Thread-safe."""

import threading
from collections import OrderedDict


class Recent:
    def __init__(self, kept: int):
        self.kept = kept
        self.values: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def of(self, keys) -> dict:
        """The values kept of these keys (each now the most recently used)."""
        with self.lock:
            found = {key: self.values[key] for key in keys if key in self.values}
            for key in found:
                self.values.move_to_end(key)
            return found

    def keep(self, values: dict) -> None:
        with self.lock:
            for key, value in values.items():
                self.values[key] = value
                self.values.move_to_end(key)
            while len(self.values) > self.kept:
                self.values.popitem(last=False)
