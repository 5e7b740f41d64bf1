"""What becomes of a message after an attempt: delivered, retried later, or the next channel.

Transient failures (a 503, a timeout, a full mailbox) are retried on the same channel with
exponential backoff; a channel that fails for good, or keeps failing, hands the message to
the next stop of its route (say SMS, then a letter). A message whose last stop fails for good
is `failed`, and stays listed as such for staff to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cpniguard.notifications.model import Channel
from cpniguard.ports import ClaimedMessage, DeliveryResult, Envelope

DELIVERED = "delivered"
TRANSIENT = "transient-failure"
PERMANENT = "permanent-failure"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    attempts_per_stop: int = 5

    def delay(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, ... up to the cap, after the n-th failed attempt."""
        doubled: timedelta = self.first_delay * (2 ** max(attempts - 1, 0))
        return min(doubled, self.max_delay)


def envelope(message: ClaimedMessage) -> Envelope:
    notice, stop = message.notice, message.stop
    return Envelope(
        message.idempotency_key,
        stop.channel.value,
        stop.recipient,
        notice.subject,
        notice.body_for(stop.channel),
        notice.language,
        notice.attachment_name,
        notice.attachment,
        notice.reply_to if stop.channel is Channel.EMAIL else None,
    )


def delivered(message: ClaimedMessage, started: datetime, reference: str) -> DeliveryResult:
    note = "resent after an unfinished attempt, with the same idempotency key" if message.resumed else None
    return DeliveryResult(message, started, DELIVERED, DELIVERED, message.step, started, reference, note)


def failed(
    policy: RetryPolicy, message: ClaimedMessage, started: datetime, reason: str, *, transient: bool
) -> DeliveryResult:
    outcome = TRANSIENT if transient else PERMANENT
    if transient and message.attempts < policy.attempts_per_stop:
        retry_at = started + policy.delay(message.attempts)
        return DeliveryResult(message, started, outcome, "pending", message.step, retry_at, None, reason)
    if message.step + 1 < len(message.notice.route):  # fall back to the next channel at once
        return DeliveryResult(message, started, outcome, "pending", message.step + 1, started, None, reason)
    return DeliveryResult(message, started, outcome, "failed", message.step, started, None, reason)
