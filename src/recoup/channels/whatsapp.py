"""WhatsApp Business Cloud API template messages, and its webhook signatures.

The documented interface (developers.facebook.com/docs/whatsapp/cloud-api):

    POST {base}/{version}/{phone-number-id}/messages, `Authorization: Bearer <token>`
      {"messaging_product": "whatsapp", "recipient_type": "individual", "to": <digits>,
       "type": "template", "template": {"name", "language": {"code"},
       "components": [{"type": "body", "parameters": [{"type": "text", "text"}]}]}}
      -> 200 {"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid…"}]}
      errors -> {"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}

A business may open a conversation only with a template Meta approved; the deployment registers
one whose body is a single parameter per language (`template`, `languages`) and the text our own
template approval passed travels in it. Error codes (synchronous, or in a status webhook):
- 131050 (the user stopped marketing messages from the business): `OptedOut`.
- 131026 (message undeliverable: not on WhatsApp, old app, terms not accepted): PermanentError.
- 131047 (re-engagement: more than 24 hours since the user last wrote, free text refused): a
  PermanentError; only a template may reopen the conversation.
- 130429 / 131048 / 131056 / 80007 (rate limits, pair rate limit), 131000 / 1 / 2 (unknown,
  service unavailable): TransientError. 190 (token expired or invalid): PermanentError.

WhatsApp documents no idempotency for sends; the key travels in `biz_opaque_callback_data`,
which comes back in the status webhook, so a resend can be recognised afterwards, not prevented:
the channel is at-most-once.

Status webhooks carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app
secret>`: `verify_signature` checks it in constant time against each secret (rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from recoup.channels.base import Accepted, OptedOut, Outgoing, PermanentError, TransientError
from recoup.channels.http import ProviderClient, classify, error_detail, json_field, reason_for

SIGNATURE_HEADER = "X-Hub-Signature-256"
OPTED_OUT = "131050"
UNDELIVERABLE = "131026"
REENGAGEMENT = "131047"
TRANSIENT = frozenset({"130429", "131048", "131056", "80007", "131000", "1", "2"})
_PARAMETER_LIMIT = 1024  # characters WhatsApp takes in one body parameter


class WhatsAppAdapter:
    name = "whatsapp"
    channel = "whatsapp"

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        template: str,
        languages: Mapping[str, str] | None = None,
        app_secret: str | None = None,  # verifies status webhooks (read by the configuration)
        base_url: str = "https://graph.facebook.com",
        api_version: str = "v21.0",
        timeout: float = 10.0,
        concurrency: int = 8,
        rate_per_second: float | None = 80.0,  # Cloud API's default throughput per number
    ) -> None:
        if not phone_number_id.isdigit():
            raise ValueError("phone_number_id is the number's numeric id in WhatsApp Manager")
        if not template:
            raise ValueError("template names the approved template that carries the text")
        self.template = template
        self.languages = dict(languages or {"en": "en_US", "zh-CN": "zh_CN", "zh-TW": "zh_TW"})
        self.app_secret = app_secret
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._path = f"/{api_version}/{phone_number_id}/messages"
        self._client = ProviderClient(
            self.name,
            concurrency=concurrency,
            timeout=timeout,
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {access_token}"},
        )

    def send(self, message: Outgoing) -> Accepted:
        to = message.to.lstrip("+")
        if not to.isdigit():
            raise PermanentError("whatsapp: the address is not a phone number")
        language = self.languages.get(message.language)
        if language is None:
            raise PermanentError(f"whatsapp: no approved template language for {message.language}")
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "biz_opaque_callback_data": message.idempotency_key,
            "template": {
                "name": self.template,
                "language": {"code": language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": message.body[:_PARAMETER_LIMIT]}],
                    }
                ],
            },
        }
        response = self._client.post(self._path, json=payload)
        redact = (message.to, to)
        if response.status_code >= 400:
            code, _ = error_detail(response)
            reason = reason_for(response, provider=self.name, redact=redact)
            raise_for_code(code, reason)
        classify(response, provider=self.name, redact=redact)
        return Accepted(provider=self.name, provider_id=_message_id(response))

    def close(self) -> None:
        self._client.close()


def raise_for_code(code: str | None, reason: str) -> None:
    """The error a WhatsApp error code calls for; returns for codes left to the HTTP status."""
    if code == OPTED_OUT:
        raise OptedOut(f"{reason} (the person stopped the business's messages)")
    if code in TRANSIENT:
        raise TransientError(reason)
    if code in (UNDELIVERABLE, REENGAGEMENT):
        raise PermanentError(reason)


def _message_id(response: Any) -> str | None:
    try:
        messages = response.json().get("messages")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        value = messages[0].get("id")
        return None if value is None else str(value)
    return json_field(response, "id")


def signature(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta sends: sha256= and the hex HMAC of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """Whether `header` signs this raw body under any of `secrets`. Compared in constant time and
    without an early exit, so the time taken does not say which secret (or how much) matched."""
    if not header or not header.startswith("sha256="):
        return False
    offered = header.strip().encode()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(signature(body, secret).encode(), offered)
    return matched


@dataclass(frozen=True)
class Status:
    """One status from a webhook: our key (from `biz_opaque_callback_data`), WhatsApp's message
    id, sent / delivered / read / failed, and for a failure the code and whether it is an opt-out."""

    idempotency_key: str | None
    provider_id: str
    status: str
    error_code: str | None = None

    @property
    def opted_out(self) -> bool:
        return self.error_code == OPTED_OUT


def statuses(body: bytes) -> list[Status]:
    """The statuses in a webhook's (already verified) body; anything else in it is ignored."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    out: list[Status] = []
    for entry in _items(doc, "entry"):
        for change in _items(entry, "changes"):
            value = change.get("value")
            for item in _items(value, "statuses"):
                errors = _items(item, "errors")
                code = errors[0].get("code") if errors else None
                out.append(
                    Status(
                        idempotency_key=_opt(item.get("biz_opaque_callback_data")),
                        provider_id=str(item.get("id") or ""),
                        status=str(item.get("status") or ""),
                        error_code=None if code is None else str(code),
                    )
                )
    return out


def _items(doc: object, key: str) -> list[dict[str, Any]]:
    items = doc.get(key) if isinstance(doc, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
