"""A session's `status` values, as the write model decides them and the read models show them (SPEC §4.2)."""

SESSION_STATUSES = ("setup", "pending", "active", "pending-review", "complete", "unknown")
# Statuses a processed message moves to `active` (SPEC §4.2, activation).
NOT_YET_ACTIVE = ("setup", "pending")
ACTIVE = "active"
