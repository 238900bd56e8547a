"""A team's files (SPEC §3.14): the read model's record of one, whose content the file store holds."""

from pymongo.database import Database

from schemas.errors import detail
from schemas.read_models import FILES

MAX_FILE_ID = 2**63 - 1  # the largest integer MongoDB stores; file ids are below 2**53


def team_file(db: Database, team: str, file_id: int) -> dict:
    doc = db[FILES].find_one({"file_id": file_id, "team": team}) if file_id <= MAX_FILE_ID else None
    if doc is None:
        raise detail(404, "Not found.")
    return doc
