"""The embedded default's servers, run as child processes on loopback: noida-db speaking the Kafka
protocol, and secantusd-py speaking the MongoDB protocol. Production points at real servers instead."""

import ctypes
import importlib.util
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before listening")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{process.args[0]} did not listen on {port} within {timeout_s}s")


PR_SET_PDEATHSIG = 1


def end_with_parent(signum: int = signal.SIGTERM) -> None:
    """In a child process: be sent `signum` when the process (thread) that started it dies, even by SIGKILL, so a
    crashed `ocs up` or test run leaves no process behind. Our own processes get SIGTERM and finish what they are
    doing; the servers get SIGKILL (`end_server_with_parent`)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)


def end_server_with_parent() -> None:
    """SIGKILL, which nothing can defer or ignore: secantusd-py once outlived a killed `ocs up` (in CI; a SIGTERM sent
    by hand later stopped it), and both servers are made to survive a kill -9 anyway (their fault tests)."""
    end_with_parent(signal.SIGKILL)


def noida_binary() -> str:
    """noida-db's real server binary: its `noida-db` command only runs it as a child, which would outlive
    a killed wrapper. Located without importing the package."""
    spec = importlib.util.find_spec("noida_db")
    if spec and spec.submodule_search_locations:
        binary = Path(list(spec.submodule_search_locations)[0]) / "noida-db"
        if binary.exists():
            return str(binary)
    return executable("noida-db")


def executable(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not installed: install the project's `local` extra")
    return found


class LocalServer:
    """A server run as a child process on a loopback port, with its data in its own directory."""

    def __init__(self, data_dir: Path, port: int | None = None, log_file=None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command(),
            stdout=self.log_file or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C meant for `ocs up` must not reach it before its clients stop
            preexec_fn=end_server_with_parent,
        )
        wait_for_port(self.port, self.process)
        return self

    def kill(self) -> None:
        """SIGKILL, as a crash would (used by fault tests)."""
        if self.process:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
            self.process = None


class LocalKafka(LocalServer):
    """noida-db with only its Kafka service, run as its binary directly so that stopping or killing this
    child stops the server itself."""

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            noida_binary(),
            "start",
            "--data-dir",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--only",
            "kafka",
            "--kafka-port",
            str(self.port),
        ]


# The local MongoDB server's storage cache (its default, 1 GB, held 930-1,228 MB at 100k sessions): its memory
# follows it, and it must hold the read models' working set: at 64 MB it held 165 MB at 10k sessions instead of 274,
# but projecting slowed 7x on the way to 100k (bench/README.md, "Bounded memory").
CACHE_SIZE = "256M"


class LocalMongo(LocalServer):
    """secantusd-py (GPL-2.0-only: run as a separate server, never imported)."""

    @property
    def url(self) -> str:
        # Without retryWrites=false this server's write rate collapses after ~10k writes.
        return f"mongodb://127.0.0.1:{self.port}/?retryWrites=false"

    def command(self) -> list[str]:
        return [
            executable("secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.data_dir),
            "--cache-size",
            CACHE_SIZE,
        ]


def terminate(process: subprocess.Popen, grace_s: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
