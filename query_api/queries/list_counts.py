"""The lists' counters, as the projector keeps them (`projectors/projections/list_counts.py`): a list's `count`, and
where it ends."""

from pymongo.database import Database

from schemas.read_models import LIST_COUNTS, list_counter_id


def list_counters(db: Database, listing: str, team: str, dimension: str, values: tuple[str, ...]) -> dict[str, dict]:
    """The team's counter of the whole list and its counters of these values, by id; absent ones are not there."""
    ids = {list_counter_id(listing, team), *(list_counter_id(listing, team, dimension, value) for value in values)}
    return {doc["_id"]: doc for doc in db[LIST_COUNTS].find({"_id": {"$in": list(ids)}})}
