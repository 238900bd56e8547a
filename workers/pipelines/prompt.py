"""Prompts, the chatbot's and a pipeline's LLM nodes': `{session_state.<path>}` and `{participant_data.<path>}`
placeholders, any depth (pipelines add `{temp_state.<path>}` and `{input}`).

A missing key renders as an empty string, never an error; other braces are left as they are, so prompts
may contain JSON or code.
"""

import re

from schemas.prompt_placeholders import PLACEHOLDER

# How a value shows in text, and how a path finds it, are the sandbox's: it renders templates and runs Python nodes
# with them, and can import nothing of ours.
from workers.pipelines.python_node_child import as_text, value_at


def lookup(root, path: str):
    """The value at a placeholder's path (`.a.b`, as PLACEHOLDER matches it), or None where it leads nowhere."""
    return value_at(root, path.split(".")[1:] if path else [])


def render(template: str, session_state: dict, participant_data: dict, **more_roots) -> str:
    roots = {"session_state": session_state, "participant_data": participant_data, **more_roots}

    def value(match: re.Match) -> str:
        if match.group(1) not in roots:
            return match.group(0)
        return as_text(lookup(roots[match.group(1)], match.group(2)))

    return PLACEHOLDER.sub(value, template)
