"""Secrets handed to clients: API keys (`<prefix>.<secret>`, stored as a hash), OAuth client secrets, tokens
and codes (also stored as hashes), widget embed keys and webhook signatures."""

import hashlib
import hmac
import secrets


def new_api_key() -> tuple[str, str, str]:
    """(prefix, secret, the key the client keeps)."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return prefix, secret, f"{prefix}.{secret}"


def split_api_key(key: str) -> tuple[str, str] | None:
    prefix, dot, secret = key.partition(".")
    return (prefix, secret) if dot and prefix and secret else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def new_oauth_client() -> tuple[str, str]:
    """(client id, client secret)."""
    return secrets.token_urlsafe(24), secrets.token_urlsafe(40)


def new_id_secret(record_id: str) -> tuple[str, str]:
    """A secret handed out as `<record id>.<secret>` (OAuth tokens and codes): the id finds the record,
    the secret proves possession. (the string, the secret)"""
    secret = secrets.token_urlsafe(32)
    return f"{record_id}.{secret}", secret


def new_embed_key() -> str:
    return secrets.token_urlsafe(24)


def webhook_secret(secret_key: str, subscription_id: str) -> str:
    """The secret a subscription's webhook deliveries are signed with (a messaging channel's webhook is the
    channel's subscription, under the channel's id), derived so that it is never stored."""
    return hmac.new(secret_key.encode(), f"webhook:{subscription_id}".encode(), hashlib.sha256).hexdigest()


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """`X-OCS-Signature`: over the attempt's timestamp and the exact body, so a receiver that checks the timestamp's
    age refuses a captured delivery sent again later."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
