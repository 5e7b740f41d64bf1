"""SMS and voice calls through a Twilio-style JSON API over one keep-alive HTTP client. Every
request carries the message's idempotency key, so a retry after a lost answer is not sent twice;
the reason for a failure names the provider's answer, never the text we sent."""

from __future__ import annotations

from typing import Any

import httpx

from cpniguard.ports import DeliveryFailed, Envelope

_ENDPOINTS = {"sms": ("/messages", "body"), "voice": ("/calls", "say")}
_RETRY_STATUSES = {408, 429}  # the provider asks us to come back later; 5xx are added below


class HttpSmsSender:
    """Sends `sms` envelopes as text messages and `voice` envelopes as spoken calls."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def send(self, envelope: Envelope) -> str:
        if envelope.channel not in _ENDPOINTS:
            raise DeliveryFailed(f"the SMS provider does not send {envelope.channel!r} messages", transient=False)
        path, text_field = _ENDPOINTS[envelope.channel]
        payload = {
            "to": envelope.recipient,
            text_field: envelope.body,
            "language": envelope.language,
            "idempotency_key": envelope.idempotency_key,
        }
        try:
            response = self._client.post(path, json=payload, headers={"Idempotency-Key": envelope.idempotency_key})
        except httpx.TransportError as exc:  # refused, reset, timed out: nothing known to be sent
            raise DeliveryFailed(f"SMS provider unreachable: {type(exc).__name__}", transient=True) from None
        return _reference(response)

    def close(self) -> None:
        self._client.close()


def _reference(response: httpx.Response) -> str:
    if response.is_success:
        body = _json(response)
        return str(body.get("sid") or body.get("id") or "")
    transient = response.status_code in _RETRY_STATUSES or response.status_code >= 500
    reason = f"SMS provider answered {response.status_code}"
    if detail := _error_message(response):
        reason += f": {detail}"
    raise DeliveryFailed(reason, transient=transient)


def _error_message(response: httpx.Response) -> str:
    body = _json(response)
    detail: Any = body.get("message") or body.get("error") or body.get("detail")
    if isinstance(detail, dict):
        detail = detail.get("message")
    text = detail if isinstance(detail, str) else ("" if body else response.text)
    return " ".join(text.split())[:200]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
