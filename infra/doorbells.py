"""Doorbells: how one process of the embedded stack tells another at once that there is new work.

The relay reads new events from the event store, and consumers fetch new records from the broker, by polling, and
an idle poller sleeps between polls; whatever arrives meanwhile waits for the sleep to end (at one user about half
of a reply's time was such waits: `make bench ARGS="--waterfall"`). So a process that waits on others has a
doorbell, a UNIX datagram socket, and sleeps on it instead: a process that made new work rings the doorbells of
those who take it (a one-byte datagram each, a few microseconds), and the sleeper wakes at once. A ring may also say
something (the projector names the aggregates it applied, so that an API process waiting for one to show checks
then). A ring only cuts a sleep short; nothing depends on it: a ring that reaches nobody (a process on another host,
a full socket buffer, a replica started since the ringer last looked) leaves its waiters to their usual polling.

The sockets of one data dir's processes are in one directory of their own in the temp dir, named by a digest of
the data dir's path, since a socket's path may hold at most 107 bytes (a data dir deep in a test's temp dir
can be longer than that).
"""

import hashlib
import os
import select
import socket
import tempfile
import time
from pathlib import Path

# How often a ringer looks again for the doorbells it rings: a replica started since waits its usual poll meanwhile.
LOOK_AGAIN_S = 1.0
# The most a ring may say (bytes): a ringer that has more to say rings several times.
MOST_SAID = 32_768


class Doorbell:
    """The doorbell of one process: `wait` sleeps until it rings or the timeout ends."""

    def __init__(self, data_dir: Path, component: str, instance: str):
        directory = doorbells_of(data_dir)
        directory.mkdir(mode=0o700, exist_ok=True)
        self.path = directory / f"{component}-{digest(instance)}.sock"
        self.path.unlink(missing_ok=True)  # left by a predecessor under the same name that was killed
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(self.path))
        self.socket.setblocking(False)

    def wait(self, timeout_s: float) -> bool:
        """Sleep up to `timeout_s`; True if rung (every ring so far is taken: one wake-up for a burst of them)."""
        return bool(self.news(timeout_s))

    def news(self, timeout_s: float) -> list[bytes]:
        """Sleep up to `timeout_s` for a ring; what every ring so far said (empty if none came)."""
        readable, _, _ = select.select([self.socket], [], [], timeout_s)
        said = []
        if readable:
            try:
                while True:
                    said.append(self.socket.recv(MOST_SAID))
            except BlockingIOError:
                pass
        return said

    def close(self) -> None:
        self.socket.close()
        self.path.unlink(missing_ok=True)
        try:
            self.path.parent.rmdir()  # the last one out
        except OSError:
            pass


class Unwired:
    """Stands in for a doorbell, or for the doorbells to ring, where none is wired: a wait sleeps, a ring does
    nothing."""

    def wait(self, timeout_s: float) -> bool:
        time.sleep(timeout_s)
        return False

    def ring(self, said: bytes = b"\0") -> None:
        pass


UNWIRED = Unwired()


class Doorbells:
    """Rings the doorbells of every replica of `components`."""

    def __init__(self, data_dir: Path, *components: str):
        self.directory = doorbells_of(data_dir)
        self.prefixes = tuple(f"{component}-" for component in components)
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.setblocking(False)
        self.paths: list[str] = []
        self.looked_at = float("-inf")

    def ring(self, said: bytes = b"\0") -> None:
        """`said`: at most MOST_SAID bytes for the rung to read (`Doorbell.news`)."""
        if time.monotonic() - self.looked_at > LOOK_AGAIN_S:
            self.look()
        for path in self.paths:
            try:
                self.socket.sendto(said, path)
            except OSError:
                pass  # rung already (its buffer is full), or gone: it polls as it would without a doorbell

    def look(self) -> None:
        self.looked_at = time.monotonic()
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            names = []
        self.paths = [str(self.directory / name) for name in names if name.startswith(self.prefixes)]

    def close(self) -> None:
        self.socket.close()


def remove_unanswered(data_dir: Path) -> None:
    """Remove the doorbells no process answers any more (of processes killed), and their directory once empty."""
    directory = doorbells_of(data_dir)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as ringer:
        ringer.setblocking(False)
        for path in directory.glob("*.sock"):
            try:
                ringer.sendto(b"\0", str(path))
            except (ConnectionRefusedError, FileNotFoundError):
                path.unlink(missing_ok=True)
            except OSError:
                pass  # answered, with a full buffer
    try:
        directory.rmdir()
    except OSError:
        pass  # not empty, or gone


def doorbells_of(data_dir: Path) -> Path:
    return Path(tempfile.gettempdir()) / f"ocs-doorbells-{digest(str(data_dir.resolve()))}"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
