"""Read-model writes: a creating event's insert-if-absent and a later event's change at exactly the previous
version, which make every projection idempotent."""

from pymongo import InsertOne, UpdateOne

Write = tuple[str, UpdateOne | InsertOne]


def sort_key(created_at: str, doc_id: str) -> str:
    """Creation order with the id as tie-breaker, as one indexed, cursor-friendly string."""
    return f"{created_at}|{doc_id}"


def create(collection: str, envelope: dict, doc: dict, doc_id: str | None = None) -> Write:
    """`doc_id`: for a document of its own that the event creates (the aggregate's id by default)."""
    return collection, UpdateOne(
        {"_id": doc_id or envelope["aggregate_id"]},
        {"$setOnInsert": {**doc, "team": envelope["team"], "version": envelope["aggregate_version"]}},
        upsert=True,
    )


def change(collection: str, envelope: dict, update: dict) -> Write:
    version = envelope["aggregate_version"]
    update = {**update, "$set": {**update.get("$set", {}), "version": version}}
    return collection, UpdateOne({"_id": envelope["aggregate_id"], "version": version - 1}, update)
