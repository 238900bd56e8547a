"""Chat session tokens: stateless, HMAC-signed, bound to one session; their lifetime is counted from the
session's creation and is absolute (SPEC §1.6). Any process holding the secret can mint and check them."""

import base64
import hashlib
import hmac

LIFETIME_S = 7 * 24 * 3600


class SessionTokens:
    def __init__(self, secret_key: str):
        self.key = secret_key.encode()

    def signature(self, session_id: str) -> str:
        digest = hmac.new(self.key, f"chat-session:{session_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def mint(self, session_id: str) -> str:
        return f"{session_id}.{self.signature(session_id)}"

    def is_valid_for(self, token: str, session_id: str) -> bool:
        bound_to, _, signature = token.rpartition(".")
        # Bytes, because compare_digest refuses non-ASCII text, and a header may carry any.
        return hmac.compare_digest(bound_to.encode(), session_id.encode()) and hmac.compare_digest(
            signature.encode(), self.signature(session_id).encode()
        )
