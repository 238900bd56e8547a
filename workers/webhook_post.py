"""One delivery attempt of an event to a webhook: its envelope, exactly as `GET /api/events/` answers it, POSTed as
UTF-8 JSON with the headers receivers rely on (`docs/events.md`, Subscribing: webhooks):

- `X-OCS-Event-Id`: the event's id, to de-duplicate (delivery is at least once);
- `X-OCS-Subscription-Id`: whose delivery this is;
- `X-OCS-Timestamp`: when this attempt was signed (unix seconds), so a receiver can refuse old ones;
- `X-OCS-Signature`: `sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.

Redirects are not followed: a POST redirected would arrive as a GET without its body, or somewhere unsigned-for.
"""

import json
import time
import urllib.error
import urllib.request

from infra.secrets import webhook_signature

# A receiver answers with a status; its body is never read past this.
MAX_RESPONSE_BYTES = 64 * 1024


class RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx is then an HTTPError: a failed attempt


OPENER = urllib.request.build_opener(RefuseRedirects)


def post_event(url: str, subscription_id: str, secret: str, envelope: dict, timeout_s: float) -> str | None:
    """None when the receiver answered 2xx; otherwise why the attempt failed."""
    body = json.dumps(envelope, ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-OCS-Event-Id": envelope["event_id"],
        "X-OCS-Subscription-Id": subscription_id,
        "X-OCS-Timestamp": str(timestamp),
        "X-OCS-Signature": webhook_signature(secret, timestamp, body),
    }
    try:
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        with OPENER.open(request, timeout=timeout_s) as response:
            response.read(MAX_RESPONSE_BYTES)
            return None
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except Exception as exc:  # any URL or answer at all is a failed attempt, never the worker's end
        return f"{type(exc).__name__}: {exc}"
