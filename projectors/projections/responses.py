"""Responses API responses their clients kept: one document each, until it is deleted."""

from projectors.projections.writes import Write, change, create
from schemas.read_models import RESPONSES


def stored_response_created(envelope: dict, data: dict) -> list[Write]:
    return [create(RESPONSES, envelope, {**data, "store": True, "deleted": False})]


def stored_response_deleted(envelope: dict, data: dict) -> list[Write]:
    """Kept as a marker (read-your-writes waits for its version), without what the client wrote."""
    return [change(RESPONSES, envelope, {"$set": {"deleted": True, "instructions": None, "metadata": []}})]
