"""Delivering bot messages to their channel's webhook: a JSON POST signed with HMAC-SHA256
(`X-OCS-Signature: sha256=<hex>` over the exact body), retried with backoff, its outcome recorded as an
event. A message whose outcome is recorded is not sent again, so redelivered events send nothing twice."""

import json
import logging
import time
import urllib.error
import urllib.request

from command_api import commands
from command_api.bus import CommandBus
from command_api.domain.chat_session import ChatSession
from command_api.domain.messaging_channel import MessagingChannel
from command_api.write_model.application import OcsApplication
from command_api.write_model.repository import load
from infra.secrets import webhook_secret, webhook_signature

log = logging.getLogger(__name__)

BACKOFF_S = 0.5


class WebhookDelivery:
    def __init__(self, app: OcsApplication, bus: CommandBus, secret_key: str, attempts: int, timeout_s: float):
        self.app = app
        self.bus = bus
        self.secret_key = secret_key
        self.attempts = attempts
        self.timeout_s = timeout_s

    def deliver(self, envelope: dict) -> None:
        """A bot message was sent: POST it to its channel's webhook, once."""
        data = envelope["data"]
        channel = load(self.app, data["channel_id"], MessagingChannel)
        session = load(self.app, envelope["aggregate_id"], ChatSession)
        message_id = data["message"]["id"]
        if channel is None or not channel.webhook_url or session is None or message_id in session.deliveries:
            return
        body = json.dumps(
            {
                "event_id": envelope["event_id"],
                "type": envelope["type"],
                "team": envelope["team"],
                "session_id": envelope["aggregate_id"],
                **data,
            }
        ).encode()
        delivered, attempts, error = self.post(channel, body, envelope["event_id"])
        self.bus.handle(commands.RecordDelivery(envelope["aggregate_id"], message_id, delivered, attempts, error))

    def record_undelivered(self, envelope: dict, error: Exception) -> None:
        message_id = envelope["data"]["message"]["id"]
        self.bus.handle(commands.RecordDelivery(envelope["aggregate_id"], message_id, False, 0, repr(error)))

    def post(self, channel: MessagingChannel, body: bytes, event_id: str) -> tuple[bool, int, str | None]:
        signature = webhook_signature(webhook_secret(self.secret_key, str(channel.id)), body)
        error = None
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(
                channel.webhook_url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "X-OCS-Signature": signature, "X-OCS-Event-Id": event_id},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    if 200 <= response.status < 300:
                        return True, attempt, None
                    error = f"HTTP {response.status}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                error = str(exc)
            log.warning(
                "webhook delivery to %s failed (%s), attempt %d of %d",
                channel.webhook_url,
                error,
                attempt,
                self.attempts,
            )
            if attempt < self.attempts:
                time.sleep(BACKOFF_S * 2 ** (attempt - 1))
        return False, self.attempts, error
