"""The placeholders prompts and templates of this server's own syntax read: `{root.path.to.value}`, single-braced,
rendered by `workers/pipelines/prompt.py` and read when an earlier-form pipeline's templates become Jinja
(`schemas/pipeline_graph.py`)."""

import re

PLACEHOLDER = re.compile(r"\{([a-z_]+)((?:\.[^.{}\s]+)*)\}")
# What a pipeline's templates read, beside the session state and participant data every prompt reads.
PIPELINE_ROOTS = ("input", "session_state", "participant_data", "temp_state")
