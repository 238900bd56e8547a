"""The lists' counters, as the projector keeps them (`projectors/projections/list_counts.py`): a list's `count`, and
where it ends."""

from pymongo.database import Database

from schemas.read_models import LIST_COUNTS


def list_counters(db: Database, ids: list[str]) -> dict[str, dict]:
    """These counters, by id (`schemas.read_models.list_counter_id`); one not there has counted nothing yet."""
    return {doc["_id"]: doc for doc in db[LIST_COUNTS].find({"_id": {"$in": ids}})}
