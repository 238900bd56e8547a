"""Profiles of the stack's Python processes under load, with py-spy (sampling, from outside the process):
each process's collapsed stacks are kept beside the report, and its hottest functions summarised in it."""

import linecache
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

PYTHON_ROLES = ("api", "worker", "projector", "relay", "secantusd-py")
RATE_HZ = 50
TOP = 12


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(sampler, seconds: float, out_dir: Path) -> dict:
    """py-spy every Python process of the stack at once for `seconds`; per role, its top functions. A role's
    process is sampled with its children: the API's requests run in the gunicorn worker it forks."""
    binary = py_spy()
    if binary is None:
        return {"error": "py-spy is not installed (pip install py-spy)"}
    out_dir.mkdir(parents=True, exist_ok=True)
    pids = {role: sampler.pid_of(role) for role in PYTHON_ROLES}
    results: dict = {}

    def one(role: str, pid: int) -> None:
        path = out_dir / f"{role}.collapsed.txt"
        done = subprocess.run(
            [binary, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(RATE_HZ),
             "--format", "raw", "--nonblocking", "--subprocesses", "--output", str(path)],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0 or not path.exists():
            results[role] = {"error": (done.stderr or done.stdout).strip()[-300:]}
            return
        results[role] = {**summarise(path.read_text(), seconds), "collapsed_stacks": str(path)}

    threads = [threading.Thread(target=one, args=(role, pid)) for role, pid in pids.items() if pid]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def function_of(frame: str, with_line: bool = False) -> str:
    """`name (path/file.py:123)` with the path shortened to its package (and without the line number)."""
    name, _, where = frame.partition(" (")
    path, _, line = where.rstrip(")").rpartition(":")
    for marker in ("site-packages/", "python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    if with_line and line:
        path = f"{path}:{line}"
    return f"{name} ({path})" if path else name


# Leaf frames where a thread waits rather than computes: py-spy cannot always tell a thread blocked in a
# system call from a busy one, so these are counted apart, by the leaf's function name or its source line.
WAITING_FUNCTIONS = {
    "recv_into", "_recv_exactly", "recv", "readinto", "select", "poll", "wait", "_wait_for_tstate_lock",
    "sleep", "accept", "_worker", "get", "_readable", "serve_forever",
}  # fmt: skip
WAITING_LINE = re.compile(r"\bsleep\(|\.wait\(|\.select\(|\.recv(_into)?\(|\.accept\(")


def is_waiting(frame: str) -> bool:
    name, _, where = frame.partition(" (")
    if name.rsplit(".", 1)[-1] in WAITING_FUNCTIONS:
        return True
    path, _, line = where.rstrip(")").rpartition(":")
    source = linecache.getline(path, int(line)) if line.isdigit() else ""
    return bool(WAITING_LINE.search(source))


def summarise(collapsed: str, seconds: float) -> dict:
    """Samples, the share of them waiting, and the top functions of the rest by own time (leaf frame, with
    its line) and by inclusive time."""
    own, inclusive = Counter(), Counter()
    total = waiting = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        raw = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not raw:
            continue
        leaf = function_of(raw[-1], with_line=True)
        if is_waiting(raw[-1]):
            waiting += n
            continue
        own[leaf] += n
        for function in {function_of(f) for f in raw}:
            inclusive[function] += n
    working = total - waiting
    if not working:
        return {"samples": total, "working_samples": 0}
    return {
        "samples": total,
        "working_samples": working,
        # working samples / (rate x seconds): roughly how many threads were computing (the GIL caps it at 1).
        "working_threads": round(working / (RATE_HZ * seconds), 2),
        "top_own_percent_of_working": [(f, round(100 * n / working, 1)) for f, n in own.most_common(TOP)],
        "top_inclusive_percent_of_working": [
            (f, round(100 * n / working, 1)) for f, n in inclusive.most_common(TOP * 3)
        ],
    }


def resummarise(path: Path, seconds: float) -> dict:
    """The summary of collapsed stacks kept from an earlier run."""
    return summarise(path.read_text(), seconds)
