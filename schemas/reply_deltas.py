"""Replies while they are generated (beyond OCS): the LLM workers publish each reply's text as it arrives, in
deltas, on their own topic, keyed by session id so one session's deltas keep their order. Deltas are transient:
the reply event recorded when the reply is complete is what every reader of replies reads (poll, history, read
models, rebuild, subscribers); a crash mid-reply loses only deltas."""

from marshmallow import Schema, fields

REPLY_DELTAS_TOPIC = "ocs.reply-deltas"


class ReplyDelta(Schema):
    """One record of the reply-deltas topic (JSON, UTF-8; the message key is `session_id`)."""

    session_id = fields.Str(required=True)
    task_id = fields.Str(required=True, metadata={"description": "the task whose reply this is"})
    offset = fields.Int(
        required=True,
        metadata={
            "description": "characters (Unicode code points) of the reply before this delta; 0 again after a worker "
            "restarted the reply: drop what you hold"
        },
    )
    delta = fields.Str(required=True, metadata={"description": "text to append"})
    done = fields.Bool(required=True, metadata={"description": "the reply is complete (the reply event follows)"})
