"""Responses API responses their clients kept, as the read models hold them: the response's document, its reply's
text (the session task's copy of it), and the session messages its input became."""

from pymongo.database import Database

from schemas.read_models import MESSAGES, RESPONSES, TASKS


def kept_response(db: Database, team: str, chatbot_id: str, aggregate_id: str) -> dict | None:
    """The chatbot's response, or None: another team's, another chatbot's and a deleted one are missing alike."""
    response = db[RESPONSES].find_one({"_id": aggregate_id})
    if response is None or response["team"] != team or response["chatbot_id"] != chatbot_id or response["deleted"]:
        return None
    return response


def reply_text(db: Database, response: dict) -> str | None:
    task = db[TASKS].find_one({"_id": response["task_id"]}, {"message.content": 1})
    return task["message"]["content"] if task and task.get("message") else None


def input_messages(db: Database, response: dict, after: str | None, limit: int, newest_first: bool):
    """(one page of the messages its input became, whether more follow): `after` the message of that id, if it is
    one of them."""
    ids = list(reversed(response["input_message_ids"]) if newest_first else response["input_message_ids"])
    if after in ids:
        ids = ids[ids.index(after) + 1 :]
    page = ids[:limit]
    found = {message["_id"]: message for message in db[MESSAGES].find({"_id": {"$in": page}})}
    return [found[message_id] for message_id in page if message_id in found], len(ids) > limit
