"""Session-state keys with a meaning of their own, reserved from what clients set as state."""

# The key that only the `page_context` parameter may set (SPEC §9.1).
PAGE_CONTEXT_KEY = "page_context"
# The key a chat message's `context` replaces (SPEC §3.17).
REMOTE_CONTEXT_KEY = "remote_context"
