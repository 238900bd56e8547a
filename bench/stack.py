"""The stack under test: `ocs up` as a subprocess on a free port with a fresh data directory, the admin
CLI against it, and a stop that leaves no process behind."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.procs import cmdline, descendants
from infra.config import STACK_FILE
from infra.wiring.local_servers import free_port

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 180
STOP_GRACE_S = 30


class BenchStack:
    def __init__(self, data_dir: Path, env: dict | None = None, replicas: tuple[str, ...] = ()):
        """`replicas`: `ocs up`'s replica options, e.g. ("--workers", "3")."""
        self.data_dir = data_dir
        self.replicas = replicas
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self) -> "BenchStack":
        self.log = open(self.data_dir / "ocs-up.out", "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.wiring.cli",
                "up",
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
                *self.replicas,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait_for_servers(self, timeout_s: float = READY_TIMEOUT_S) -> dict:
        """The local servers' addresses, once `ocs up` has written them to the data dir."""
        return self._until(lambda: json.loads((self.data_dir / STACK_FILE).read_text()), timeout_s, "stack.json")

    def wait_until_healthy(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        def healthy():
            with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                return response.status == 200

        self._until(healthy, timeout_s, "/healthz")

    def _until(self, check, timeout_s: float, what: str):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ocs up exited with {self.process.returncode}; see {self.data_dir / 'ocs-up.out'}")
            try:
                result = check()
                if result:
                    return result
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{what} not ready within {timeout_s}s; see {self.data_dir}/logs")

    def admin(self, *args: str) -> dict:
        """An `ocs admin` command against this stack's data dir, run as a user would (JSON on stdout)."""
        done = subprocess.run(
            [sys.executable, "-m", "infra.wiring.cli", "admin", *args, "--data-dir", str(self.data_dir)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ocs admin {' '.join(args)} failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def stop(self) -> list[int]:
        """SIGINT to `ocs up` (as Ctrl-C), wait, then make sure nothing of it is left: the pids that had to be
        killed (empty when it stopped cleanly)."""
        if self.process is None:
            return []
        tree = {pid: cmdline(pid) for pid in descendants(self.process.pid)}
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        leftovers = []
        deadline = time.monotonic() + 10
        for pid, command in tree.items():
            while alive(pid, command) and time.monotonic() < deadline:
                time.sleep(0.1)
            if alive(pid, command):
                os.kill(pid, signal.SIGKILL)
                leftovers.append(pid)
        self.log.close()
        self.process = None
        return leftovers


def alive(pid: int, command: str) -> bool:
    """Still running as the process we started (the command line is compared, so a pid reused by an unrelated
    process is never touched)."""
    return not is_zombie(pid) and cmdline(pid) == command


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
