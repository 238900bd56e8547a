"""A chatbot pipeline's Python node: the author's `main(input, **kwargs)` runs in a child process of its own
(workers/pipelines/python_node_child.py), compiled under RestrictedPython and held to OS limits on CPU, memory
and time, so untrusted code never runs inside the worker that calls it, and cannot stall or crash it.
"""

import json
import logging
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from workers.pipelines.python_node_child import RejectedCode, compile_node

log = logging.getLogger(__name__)

CHILD_SCRIPT = str(Path(__file__).with_name("python_node_child.py"))
# -I: no environment variables, user site or script directory on the path; only the interpreter's own packages.
CHILD_COMMAND = (sys.executable, "-I", CHILD_SCRIPT)


@dataclass(frozen=True)
class NodeContext:
    """What the node's code can read."""

    session_state: dict
    participant_data: dict
    temp_state: dict
    node_outputs: dict[str, str]  # node name -> its output so far in this run
    selected_routes: dict[str, str]  # router node name -> the route it chose


@dataclass(frozen=True)
class NodeResult:
    """What the node's code did."""

    output: str  # main()'s return value, as str ("" when it aborted)
    session_state: dict  # page_context unchanged
    participant_data: dict
    temp_state: dict
    message_tags: tuple[str, ...]
    session_tags: tuple[str, ...]
    abort_message: str | None  # abort_with_message was called: the pipeline stops and this is the reply
    abort_tag: str | None
    ends_session: bool
    printed: str


class PythonNodeError(Exception):
    """The node's code was refused or failed; the message says what went wrong, for the chatbot's author, and
    `printed` holds what it printed before that."""

    def __init__(self, message: str, printed: str = ""):
        super().__init__(message)
        self.printed = printed


@dataclass(frozen=True)
class Limits:
    """What one run may use. The OS counts CPU in whole seconds, so cpu_seconds is rounded up.
    output_chars bounds both main()'s return value and what the code prints (which is cut, not refused)."""

    cpu_seconds: float = 2
    memory_mb: int = 256
    wall_seconds: float = 5
    output_chars: int = 10_000


def check_code(code: str) -> None:
    """Raises PythonNodeError unless the code compiles under the restrictions and defines main(input, **kwargs).

    Compiling runs none of the code, so this is safe in the calling process."""
    try:
        compile_node(code)
    except RejectedCode as exc:
        raise PythonNodeError(str(exc)) from None


def run_python_node(code: str, input: str, context: NodeContext, limits: Limits = Limits()) -> NodeResult:
    """Runs the node's main(input) in a fresh child process; raises PythonNodeError if it cannot, or fails."""
    return result_from(sandboxed({"code": code, "input": input, "context": asdict(context)}, limits))


def render_in_sandbox(template: str, context: dict, limits: Limits = Limits()) -> str:
    """Renders a Jinja template on a JSON context in a fresh child process; raises PythonNodeError if it cannot."""
    try:
        payload = json.loads(sandboxed({"template": template, "context": context}, limits))
        if "error" in payload:
            raise PythonNodeError(payload["error"])
        return str(payload["output"])
    except (ValueError, TypeError, KeyError):
        raise PythonNodeError("the template's process gave no readable result") from None


def sandboxed(request: dict, limits: Limits) -> bytes:
    """The child's answer to the request, run under the limits; raises PythonNodeError when it gave none."""
    request = json.dumps({**request, "limits": asdict(limits)})
    # Files rather than pipes: the child's RLIMIT_FSIZE then bounds how much it can make this process read.
    with (
        tempfile.TemporaryDirectory(prefix="python-node-") as workdir,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
        subprocess.Popen(
            CHILD_COMMAND, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr, cwd=workdir, env={}
        ) as child,
    ):
        # A timer kills the child at the deadline, so waiting can block: Popen.wait(timeout) polls, adding ~25 ms.
        expired = threading.Event()

        def expire():
            expired.set()
            child.kill()

        deadline = threading.Timer(limits.wall_seconds, expire)
        deadline.start()
        try:
            child.communicate(request.encode())
        finally:
            deadline.cancel()
        stdout.seek(0)
        stderr.seek(0)
        answer, problems = stdout.read(), stderr.read()
    if expired.is_set():
        raise PythonNodeError(f"the code did not finish within {limits.wall_seconds:g} s")
    if child.returncode != 0:
        raise PythonNodeError(stopped(child.returncode, problems, limits))
    return answer


def stopped(returncode: int, problems: bytes, limits: Limits) -> str:
    """Why the child ended without a result, as its exit status tells; `problems` is what it wrote to stderr."""
    if returncode == -signal.SIGXCPU:
        return f"the code used more than {limits.cpu_seconds:g} s of CPU time"
    if returncode == -signal.SIGKILL:
        return f"the code was stopped for going over its limits ({limits.cpu_seconds:g} s CPU, {limits.memory_mb} MB)"
    # Not the node's doing: the child itself broke (a missing package, say), so operators need its stderr.
    log.error("Python node child exited with %s: %s", returncode, problems[-2000:].decode(errors="replace"))
    return f"the Python node's process failed (exit status {returncode})"


def result_from(answer: bytes) -> NodeResult:
    """The child's answer as a NodeResult. The child ran untrusted code, so a malformed answer is an error, not
    a crash of the caller."""
    try:
        payload = json.loads(answer)
        if "error" in payload:
            raise PythonNodeError(payload["error"], printed=payload.get("printed", ""))
        tags = {"message_tags": tuple(payload["message_tags"]), "session_tags": tuple(payload["session_tags"])}
        return NodeResult(**{**payload, **tags})
    except (ValueError, TypeError, KeyError):
        raise PythonNodeError("the Python node's process gave no readable result") from None
