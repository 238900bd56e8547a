"""A `RenderTemplate` node's Jinja template: checked here, and rendered in a child process of its own, in Jinja's
sandbox (no attribute starting with `_`, bounded `range`) under a Python node's OS limits on CPU, memory and time
(`workers/pipelines/python_node_child.py`), so no template can stall or exhaust the worker. A missing key renders as
an empty string at any depth, and values render as prompts render them (JSON for objects and lists, `true`/`false`).
"""

from jinja2 import TemplateError

from workers.pipelines.python_node import Limits, PythonNodeError, render_in_sandbox
from workers.pipelines.python_node_child import templates


class TemplateFailure(Exception):
    """A template that does not compile, or failed while rendering; the message says why."""


def check_template(template: str) -> None:
    """Parsing runs none of the template, so this is safe in the calling process."""
    try:
        templates().parse(template)
    except TemplateError as exc:
        raise TemplateFailure(f"the template does not compile: {exc}") from None


def render_template(template: str, limits: Limits, **context) -> str:
    try:
        return render_in_sandbox(template, context, limits)
    except PythonNodeError as exc:
        raise TemplateFailure(str(exc)) from None
