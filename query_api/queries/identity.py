"""Who a credential acts as, and its team (API v2's `me`)."""

from pymongo.database import Database

from infra.authentication import FORBIDDEN
from query_api.queries.sessions import team_document
from schemas import representations
from schemas.errors import detail
from schemas.ids import user_number


def me(db: Database, team: str, user: str | None) -> dict:
    """`user` None: a machine token (client credentials), which acts for its application as no user, so it has no
    identity to describe."""
    if user is None:
        raise detail(403, FORBIDDEN)
    return representations.me(user, user_number(team, user), team_document(db, team))
