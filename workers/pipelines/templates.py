"""A pipeline's Jinja templates (`RenderTemplate`'s `template_string`), in Jinja's sandbox: no attribute starting
with `_`, bounded `range`. A missing key renders as an empty string at any depth, and values render as prompts
render them (`workers/prompt.py`: JSON for objects and lists, `true`/`false`)."""

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from workers.prompt import as_text

ENVIRONMENT = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, finalize=as_text)


class TemplateFailure(Exception):
    """A template that does not compile, or failed while rendering; the message says why."""


def check_template(template: str) -> None:
    try:
        ENVIRONMENT.parse(template)
    except TemplateError as exc:
        raise TemplateFailure(f"the template does not compile: {exc}") from None


def render_template(template: str, **context) -> str:
    try:
        return ENVIRONMENT.from_string(template).render(**context)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateFailure(f"the template failed: {exc}") from None
