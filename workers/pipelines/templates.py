"""A pipeline's Jinja templates (`RenderTemplate`'s `template_string`), in Jinja's sandbox: no attribute starting
with `_`, bounded `range`. A missing key renders as an empty string at any depth, and values render as prompts
render them (`workers/prompt.py`: JSON for objects and lists, `true`/`false`).

Unlike a Python node, a template renders in the worker's own process, with no CPU or memory limit of its own: the
sandbox keeps it from Python's internals, not from asking for much work."""

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from workers.prompt import as_text

ENVIRONMENT = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, finalize=as_text)
# A reply longer than this is no chat message; rendering stops there rather than building more.
MAX_OUTPUT_CHARS = 100_000


class TemplateFailure(Exception):
    """A template that does not compile, or failed while rendering; the message says why."""


def check_template(template: str) -> None:
    try:
        ENVIRONMENT.parse(template)
    except TemplateError as exc:
        raise TemplateFailure(f"the template does not compile: {exc}") from None


def render_template(template: str, **context) -> str:
    output, length = [], 0
    try:
        for piece in ENVIRONMENT.from_string(template).generate(**context):
            output.append(piece)
            length += len(piece)
            if length > MAX_OUTPUT_CHARS:
                raise TemplateFailure(f"the template rendered more than {MAX_OUTPUT_CHARS} characters")
    except TemplateFailure:
        raise
    # Whatever the author's template raised (a sandbox refusal, a recursion, a bad operand) is theirs to read.
    except Exception as exc:
        raise TemplateFailure(f"the template failed: {type(exc).__name__}: {exc}") from None
    return "".join(output)
