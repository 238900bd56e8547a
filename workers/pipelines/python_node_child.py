"""The child side of a Python node: compiles the node's code under RestrictedPython and runs its `main` in the
process that workers/pipelines/python_node.py started for this one run, then reports what the node did. A
`RenderTemplate` node's Jinja template renders here too, in Jinja's sandbox, under the same OS limits.

It reads the request as JSON on stdin and writes the result as JSON on stdout. It imports only the standard
library, RestrictedPython and Jinja, because it runs in an isolated interpreter (`python -I`) without the project on
its path; the parent imports it too, for `compile_node`, `templates` and `as_text`, so both sides apply the same rules.

One module past the ~400 lines of the others, on purpose: it is one concept, the sandbox, and it must be a single
file, since the isolated interpreter runs it by path and can import nothing of ours beside it.
"""

import ast
import builtins
import copy
import datetime
import functools
import json
import math
import operator
import random
import re
import resource
import string
import sys
import textwrap
import traceback
import types

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)

FILENAME = "<python node>"
HELPER_MODULE = "python_node"
READ_ONLY_SESSION_KEY = "page_context"
# A node's state must fit in the events that record it. Past MAX_WRITTEN_BYTES the OS refuses this process's
# writes (RLIMIT_FSIZE; Python ignores SIGXFSZ), which bounds what the parent reads from its output file.
MAX_RESULT_BYTES = 4 * 1024 * 1024
MAX_WRITTEN_BYTES = MAX_RESULT_BYTES + 64 * 1024


def module_named(name: str, attributes: dict) -> types.ModuleType:
    """A fresh module holding only the given attributes, so errors read "module 'json' has no attribute ..."."""
    module = types.ModuleType(name)
    vars(module).update(attributes)
    return module


def public_part(module: types.ModuleType, *unsafe: str) -> types.ModuleType:
    """What node code sees of a standard module: its public names, minus the modules it imported (`json.codecs`
    opens files, `datetime.sys` reaches every loaded module) and minus the names given as unsafe."""
    return module_named(
        module.__name__,
        {
            name: value
            for name, value in vars(module).items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType) and name not in unsafe
        },
    )


STANDARD_MODULES = {
    "datetime": public_part(datetime, "datetime_CAPI"),
    "json": public_part(json),
    "math": public_part(math),
    "random": public_part(random),
    "re": public_part(re),
    # A Formatter looks attributes up by the names in a format string, past the attribute guard.
    "string": public_part(string, "Formatter"),
}
IMPORTABLE = (*sorted(STANDARD_MODULES), HELPER_MODULE)
# datetime imports these from C on first use (today(), strftime(), strptime()), through the `__import__` of the
# calling frame, which is the node's. Node code cannot import them itself: its imports are checked at compile.
LIBRARY_IMPORTS = ("_strptime", "time")

# RestrictedPython leaves these out because they iterate without calling its `_getiter_` hook; this sandbox
# guards attribute names, not iteration, so they are safe here.
ITERATION_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "all",
        "any",
        "dict",
        "enumerate",
        "filter",
        "frozenset",
        "iter",
        "list",
        "map",
        "max",
        "min",
        "next",
        "reversed",
        "set",
        "sorted",
        "sum",
        "tuple",
        "zip",
    )
}
IN_PLACE_OPERATORS = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}


class RejectedCode(Exception):
    """The code cannot run as a Python node; the message says why, for the chatbot's author."""


class NodeCodePolicy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus: only allowlisted imports, and no classes."""

    def visit_Import(self, node: ast.Import) -> ast.AST:
        for alias in node.names:
            self.check_importable(node, alias.name)
        return super().visit_Import(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.check_importable(node, "." * node.level + (node.module or ""))
        return super().visit_ImportFrom(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        # The write guard refuses `self.x = ...`, so a class could hold nothing; better to say so at creation.
        self.error(node, "classes are not allowed in a Python node")
        return node

    def check_importable(self, node: ast.AST, name: str) -> None:
        if name not in IMPORTABLE:
            self.error(node, f"importing {name!r} is not allowed (a Python node may import {', '.join(IMPORTABLE)})")


def compile_node(code: str) -> types.CodeType:
    """The node's code compiled under the restrictions; raises RejectedCode if it breaks them or has no main."""
    try:
        tree = parsed(code)
        has_main = defines_main(tree)
        compiled = compile_restricted_exec(tree, FILENAME, policy=NodeCodePolicy)
    except SyntaxError as exc:
        raise RejectedCode(f"Line {exc.lineno}: SyntaxError: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise RejectedCode("the code is nested too deeply to compile") from None
    if compiled.errors:
        raise RejectedCode("; ".join(compiled.errors))
    if not has_main:
        raise RejectedCode("the code must define a function main(input, **kwargs)")
    return compiled.code


def parsed(code: str) -> ast.Module:
    """The node's syntax tree. Code that returns at its top level is the body of main (OCS's documentation
    writes page-context examples that way), so it runs as `def main(input, **kwargs):` around it."""
    tree = ast.parse(code, FILENAME)
    if not returns_at_top_level(tree):
        return tree
    tree = ast.parse("def main(input, **kwargs):\n" + textwrap.indent(code, "    ", lambda line: True), FILENAME)
    ast.increment_lineno(tree, -1)  # errors name the author's lines
    return tree


def returns_at_top_level(tree: ast.Module) -> bool:
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Return):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))
    return False


def defines_main(tree: ast.Module) -> bool:
    """Whether the module defines `main(input, **kwargs)`: one positional parameter and a `**` one."""
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == "main":
            args = statement.args
            positional = args.posonlyargs + args.args
            return len(positional) == 1 and args.kwarg is not None and not args.vararg and not args.kwonlyargs
    return False


class NodeAborted(BaseException):
    """Stops the node's code after abort_with_message; a BaseException so that `except Exception` lets it pass."""


class NodeApi:
    """The `python_node` module as node code sees it: what the node may read and change, and what it asked for."""

    HELPERS = (
        "get_session_state_key",
        "set_session_state_key",
        "get_participant_data",
        "set_participant_data",
        "set_participant_data_key",
        "append_to_participant_data_key",
        "increment_participant_data_key",
        "get_temp_state_key",
        "set_temp_state_key",
        "get_node_output",
        "get_selected_route",
        "add_message_tag",
        "add_session_tag",
        "abort_with_message",
        "end_session",
    )

    def __init__(self, context: dict):
        self.session_state = context["session_state"]
        self.participant_data = context["participant_data"]
        self.temp_state = context["temp_state"]
        self.node_outputs = context["node_outputs"]
        self.selected_routes = context["selected_routes"]
        self.message_tags: list[str] = []
        self.session_tags: list[str] = []
        self.abort_message: str | None = None
        self.abort_tag: str | None = None
        self.ends_session = False

    def module(self) -> types.ModuleType:
        return module_named(HELPER_MODULE, {name: getattr(self, name) for name in self.HELPERS})

    def get_session_state_key(self, key):
        return copy.deepcopy(value_at(self.session_state, key_text(key).split(".")))

    def set_session_state_key(self, key, value):
        path = key_text(key).split(".")
        if path[0] == READ_ONLY_SESSION_KEY:
            raise PermissionError(f"{READ_ONLY_SESSION_KEY} is read-only: it is what the page sent")
        parent = self.session_state
        for depth, part in enumerate(path[:-1], start=1):
            parent = parent.setdefault(part, {})
            if not isinstance(parent, dict):
                raise TypeError(f"session state {'.'.join(path[:depth])!r} is not a dict, so it has no keys")
        parent[path[-1]] = as_json(value)

    def get_participant_data(self):
        return copy.deepcopy(self.participant_data)

    def set_participant_data(self, data):
        if not isinstance(data, dict):
            raise TypeError(f"participant data is a dict, not {type(data).__name__}")
        self.participant_data = as_json(data)

    def set_participant_data_key(self, key, value):
        self.participant_data[key_text(key)] = as_json(value)

    def append_to_participant_data_key(self, key, value):
        current = self.participant_data.get(key_text(key), [])
        items = current if isinstance(current, list) else [current]
        self.participant_data[key] = [*items, as_json(value)]

    def increment_participant_data_key(self, key, increment=1):
        current = self.participant_data.get(key_text(key), 0)
        if not is_number(current) or not is_number(increment):
            raise TypeError(f"cannot increment participant data {key!r} ({current!r}) by {increment!r}")
        self.participant_data[key] = as_json(current + increment)

    def get_temp_state_key(self, key):
        return copy.deepcopy(self.temp_state.get(key_text(key)))

    def set_temp_state_key(self, key, value):
        self.temp_state[key_text(key)] = as_json(value)

    def get_node_output(self, node_name):
        return self.node_outputs.get(node_name)

    def get_selected_route(self, router_node_name):
        return self.selected_routes.get(router_node_name)

    def add_message_tag(self, tag):
        add_once(self.message_tags, tag_text(tag))

    def add_session_tag(self, tag):
        add_once(self.session_tags, tag_text(tag))

    def abort_with_message(self, message, tag_name=None):
        self.abort_tag = None if tag_name is None else tag_text(tag_name)
        self.abort_message = str(message)
        raise NodeAborted

    def end_session(self):
        self.ends_session = True

    def result(self, output: str, printed: str) -> dict:
        return {
            "output": output,
            "session_state": self.session_state,
            "participant_data": self.participant_data,
            "temp_state": self.temp_state,
            "message_tags": self.message_tags,
            "session_tags": self.session_tags,
            "abort_message": self.abort_message,
            "abort_tag": self.abort_tag,
            "ends_session": self.ends_session,
            "printed": printed,
        }


def key_text(key) -> str:
    if not isinstance(key, str) or not key:
        raise TypeError(f"a key is a non-empty string, not {key!r}")
    return key


def tag_text(tag) -> str:
    if not isinstance(tag, str) or not tag.strip():
        raise TypeError(f"a tag is a non-empty string, not {tag!r}")
    return tag


def value_at(root, path: list[str]):
    """The value at a dotted path (a number indexes a list), or None where the path leads nowhere."""
    value = root
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def as_text(value) -> str:
    """A value as prompts and templates show it: JSON for objects and lists, `true`/`false`, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@functools.cache
def templates():
    """Jinja's sandbox, which keeps a template from Python's internals (the OS limits keep it from taking too much
    work). Imported when first used, so the child of a Python node does not pay for importing Jinja."""
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, finalize=as_text)


def as_json(value):
    """A copy of the value as JSON would store it; refusing other values here points the author at the call."""
    return json.loads(json.dumps(value, allow_nan=False))


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def add_once(tags: list[str], tag: str) -> None:
    if tag not in tags:
        tags.append(tag)


class PrintedText:
    """Where node code's print() goes: the first `limit` characters are kept, the rest only counted as cut."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.cut = False

    def write(self, text: str) -> None:
        room = self.limit - self.size
        if len(text) > room:
            self.cut = True
            text = text[: max(room, 0)]
        self.parts.append(text)
        self.size += len(text)

    def __call__(self) -> str:
        """What RestrictedPython's `printed` name reads."""
        return "".join(self.parts)

    def _call_print(self, *objects, **options) -> None:
        # The node has no files to print to: whatever `file=` it names, the text is captured here.
        options.pop("file", None)
        options.pop("flush", None)
        print(*objects, **options, file=self)

    def text(self) -> str:
        return self() + (f"\n[printed output cut at {self.limit} characters]" if self.cut else "")


def restricted_globals(api: NodeApi, printed: PrintedText) -> dict:
    """The names the compiled node code runs with: safe builtins, the allowlisted modules, RestrictedPython's
    guards."""
    modules = {**STANDARD_MODULES, HELPER_MODULE: api.module()}

    def import_module(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name in modules:
            return modules[name]
        if level == 0 and name in LIBRARY_IMPORTS:
            return builtins.__import__(name, globals, locals, fromlist, level)
        raise ImportError(f"importing {name!r} is not allowed")

    # getattr() applies the same guard as `x.name`, which RestrictedPython compiles to `_getattr_(x, "name")`.
    allowed_builtins = {**safe_builtins, **ITERATION_BUILTINS, "getattr": safer_getattr_raise}
    return {
        "__builtins__": {**allowed_builtins, "__import__": import_module},
        "_getattr_": safer_getattr_raise,
        "_getitem_": operator.getitem,
        "_getiter_": iter,
        "_write_": full_write_guard,
        "_print_": lambda _getattr_: printed,
        "_inplacevar_": lambda op, target, value: IN_PLACE_OPERATORS[op](target, value),
        "_apply_": lambda function, *args, **kwargs: function(*args, **kwargs),
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
    }


def run(request: dict) -> dict:
    """Runs the node's code on the request's input and context; the result, or {"error": ...} for its author."""
    limits = request["limits"]
    api = NodeApi(request["context"])
    printed = PrintedText(limits["output_chars"])
    output, error = "", None
    try:
        namespace = restricted_globals(api, printed)
        exec(compile_node(request["code"]), namespace)
        output = str(namespace["main"](request["input"]))
    except RejectedCode as exc:
        error = str(exc)
    except MemoryError:
        error = f"MemoryError: the code needed more than the {limits['memory_mb']} MB allowed"
    except BaseException as exc:  # SystemExit included: whatever the node's code raised is its author's to read
        error = described(exc)
    if api.abort_message is not None:  # it stands even if the node's code caught NodeAborted
        return api.result("", printed.text())
    if error is not None:
        return {"error": error[: limits["output_chars"]], "printed": printed.text()}
    if len(output) > limits["output_chars"]:
        error = f"main returned {len(output)} characters; at most {limits['output_chars']} are allowed"
        return {"error": error, "printed": printed.text()}
    return api.result(output, printed.text())


def render_template(request: dict) -> dict:
    """Renders the request's template on its context; `{"output": ...}`, or `{"error": ...}` for its author."""
    limit = request["limits"]["output_chars"]
    try:
        output = templates().from_string(request["template"]).render(**request["context"])
    except MemoryError:
        return {"error": f"the template needed more than the {request['limits']['memory_mb']} MB allowed"}
    except BaseException as exc:  # whatever the author's template raised is theirs to read
        return {"error": f"the template failed: {type(exc).__name__}: {exc}"[:limit]}
    if len(output) > limit:
        return {"error": f"the template rendered {len(output)} characters; at most {limit} are allowed"}
    return {"output": output}


def described(exc: BaseException) -> str:
    """`Type: message (line N)`, N being the last line of the node's code the exception passed through."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == FILENAME]
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text + (f" (line {lines[-1]})" if lines else "")


def apply_limits(limits: dict) -> None:
    """OS limits on this process, lowered for good before the node's code is even compiled."""
    cpu_seconds = math.ceil(limits["cpu_seconds"])
    memory_bytes = limits["memory_mb"] * 1024 * 1024
    # Past the soft CPU limit the OS sends SIGXCPU, which ends the process; the hard one is a SIGKILL backstop.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_WRITTEN_BYTES, MAX_WRITTEN_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    apply_limits(request["limits"])
    answer = json.dumps(render_template(request) if "template" in request else run(request)).encode()
    if len(answer) > MAX_RESULT_BYTES:
        answer = json.dumps({"error": f"the node's state is over the {MAX_RESULT_BYTES // 1024 // 1024} MB limit"})
        answer = answer.encode()
    sys.stdout.buffer.write(answer)


if __name__ == "__main__":
    main()
