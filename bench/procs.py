"""Watching the stack's processes from /proc: peak RSS and CPU time of each, named by its command line.

`ocs up` starts noida-db, secantusd-py and one `ocs run <part>` per part; a sampler thread walks the
process tree under `ocs up` every 0.5 s, so a restarted part is followed under its new pid too.
"""

import os
import re
import threading
import time
from collections import defaultdict

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_INTERVAL_S = 0.5
# How each process of the stack is named in the report, from its command line.
ROLES = (
    (re.compile(r"infra\.wiring\.cli run (relay|projector|worker|api)\b"), None),  # the part's own name
    (re.compile(r"infra\.wiring\.cli up\b|/ocs up\b"), "ocs-up"),
    (re.compile(r"noida-db"), "noida-db"),
    (re.compile(r"secantusd-py"), "secantusd-py"),
)


def read(path: str) -> str | None:
    try:
        with open(path, "rb") as file:
            return file.read().decode(errors="replace")
    except OSError:  # the process ended between listing and reading
        return None


def cmdline(pid: int) -> str:
    return (read(f"/proc/{pid}/cmdline") or "").replace("\0", " ").strip()


def role_of(command: str) -> str:
    for pattern, role in ROLES:
        found = pattern.search(command)
        if found:
            return role or found.group(1)
    return "other:" + os.path.basename(command.split(" ")[0])


def stat_fields(pid: int) -> list[str] | None:
    text = read(f"/proc/{pid}/stat")
    if text is None:
        return None
    # The command name in parentheses may hold spaces; every field after it is plain.
    return text[text.rindex(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    children = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields:
                children[int(fields[1])].append(int(entry))
    return children


def descendants(root: int) -> list[int]:
    children = children_map()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def rss_kib(pid: int) -> int | None:
    status = read(f"/proc/{pid}/status")
    if status is None:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) if match else 0


def cpu_seconds(pid: int) -> float | None:
    fields = stat_fields(pid)
    if fields is None:
        return None
    # utime and stime are fields 14 and 15 of /proc/pid/stat (here shifted by the two fields before).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in read("/proc/stat").splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


class ProcessSampler:
    """Samples every process under `root_pid` (and any extra pids) every 0.5 s."""

    def __init__(self, root_pid: int, extra: dict[int, str] | None = None):
        self.root_pid = root_pid
        self.extra = dict(extra or {})
        self.peak_kib: dict[str, int] = defaultdict(int)
        self.recent_peak_kib: dict[str, int] = defaultdict(int)
        self.pids: dict[int, str] = {}
        self.samples = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, name="rss-sampler", daemon=True)
        self.lock = threading.Lock()

    def start(self) -> "ProcessSampler":
        self.sample()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join()

    def watch(self, pid: int, role: str) -> None:
        with self.lock:
            self.extra[pid] = role

    def run(self) -> None:
        while not self.stop_event.wait(SAMPLE_INTERVAL_S):
            self.sample()

    def current(self) -> dict[int, str]:
        with self.lock:
            extra = dict(self.extra)
        found = {pid: role_of(cmdline(pid)) for pid in descendants(self.root_pid)}
        found.update({pid: role for pid, role in extra.items() if os.path.exists(f"/proc/{pid}")})
        return found

    def sample(self) -> None:
        current = self.current()
        for pid, role in current.items():
            rss = rss_kib(pid)
            if rss is not None:
                self.peak_kib[role] = max(self.peak_kib[role], rss)
                with self.lock:
                    self.recent_peak_kib[role] = max(self.recent_peak_kib[role], rss)
        self.pids = current
        self.samples += 1

    def peak_rss_mb(self) -> dict[str, float]:
        return {role: round(kib / 1024, 1) for role, kib in sorted(self.peak_kib.items())}

    def recent_peak_rss_mb(self) -> dict[str, float]:
        """Like `peak_rss_mb`, since the last call (or the start)."""
        with self.lock:
            recent, self.recent_peak_kib = self.recent_peak_kib, defaultdict(int)
        return {role: round(kib / 1024, 1) for role, kib in sorted(recent.items())}

    def pid_of(self, role: str) -> int | None:
        for pid, found in self.current().items():
            if found == role:
                return pid
        return None


class CpuWindow:
    """CPU used by each role, by the machine as a whole, and by everything else, between start() and stop()."""

    def __init__(self, sampler: ProcessSampler):
        self.sampler = sampler

    def snapshot(self) -> tuple[float, dict[int, tuple[str, float]], tuple[float, float]]:
        per_pid = {}
        for pid, role in self.sampler.current().items():
            seconds = cpu_seconds(pid)
            if seconds is not None:
                per_pid[pid] = (role, seconds)
        return time.monotonic(), per_pid, machine_cpu_seconds()

    def start(self) -> None:
        self.begin = self.snapshot()

    def stop(self) -> dict:
        end = self.snapshot()
        (t0, first, (busy0, total0)), (t1, last, (busy1, total1)) = self.begin, end
        wall = t1 - t0
        by_role: dict[str, float] = defaultdict(float)
        for pid, (role, seconds) in last.items():
            by_role[role] += seconds - (first[pid][1] if pid in first else 0.0)
        ours = sum(by_role.values())
        machine_busy = busy1 - busy0
        cores = (total1 - total0) / wall if wall else 0
        return {
            "wall_s": round(wall, 2),
            "cores": round(cores, 2),
            "percent_of_one_core": {role: round(100 * s / wall, 1) for role, s in sorted(by_role.items())},
            "stack_and_harness_percent": round(100 * ours / wall, 1),
            "machine_busy_percent": round(100 * machine_busy / wall, 1),
            # CPU used by processes that are neither the stack nor this harness (other jobs on the machine).
            "foreign_percent": round(100 * max(0.0, machine_busy - ours) / wall, 1),
        }
