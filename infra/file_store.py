"""Bytes of uploaded files, one file per id in a directory that every API process shares.

A file's bytes are written and flushed to disk before the event that records the file, so a recorded
file always has its bytes; a crash in between leaves only an orphan file, never a dangling record.
"""

import os
from pathlib import Path


class FileStore:
    def __init__(self, root: Path):
        self.root = root

    def path(self, file_id: int) -> Path:
        return self.root / f"{file_id:016d}"

    def write(self, file_id: int, content: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.path(file_id).with_suffix(".partial")
        with open(partial, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        partial.rename(self.path(file_id))

    def read(self, file_id: int) -> bytes | None:
        try:
            return self.path(file_id).read_bytes()
        except FileNotFoundError:
            return None
