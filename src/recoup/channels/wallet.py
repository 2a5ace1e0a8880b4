"""The wallet's payment API: Recoup asks the wallet to take a payment from its user, and the
wallet answers where to send the user to approve it. The payment counts only when the wallet's
signed webhook (`POST /v1/webhooks/wallet/payments`) confirms it.

Request, signed like every Recoup webhook (X-Recoup-Timestamp, X-Recoup-Signature) with an
Idempotency-Key header:

    POST {url}/payments
    {"reference": "rpi_42", "user": "<the wallet's user id>", "account": "<account ref>",
     "amount_minor": 50000, "currency": "CNY", "return_url": "https://.../p/<token>",
     "idempotency_key": "recoup-intent-42"}

Answer 2xx: {"id": "<the wallet's payment id>", "redirect_url": "https://wallet/..."}.
The same idempotency key answers the same payment.

Autopay mandates (docs/repayment.md, "Autopay"), signed the same way, each with an
Idempotency-Key header where it changes something:

    POST {url}/mandates
    {"reference": "ram_7", "user": "<wallet user>", "account": "<account ref>",
     "return_url": "https://.../p/<token>/autopay", "idempotency_key": "recoup-mandate-7"}
    → {"id": "<the wallet's mandate id>", "status": "pending", "redirect_url": "https://wallet/..."}

    POST {url}/mandates/query      {"id": "<mandate id>"}
    → {"id": ..., "status": "pending" | "active" | "cancelled" | "failed"}

    POST {url}/mandates/cancel     {"id": "<mandate id>", "idempotency_key": "recoup-mandate-7-cancel"}
    → {"id": ..., "status": "cancelled"}

    POST {url}/mandates/collect
    {"mandate": "<mandate id>", "reference": "rac_9", "amount_minor": 50000, "currency": "CNY",
     "idempotency_key": "recoup-autopay-7-42-1"}
    → {"id": "<the wallet's collection id>", "status": "succeeded" | "failed" | "pending",
       "reason": "balance short", "received_at": "2026-12-06T01:00:00+00:00"}

The debtor approves a pending mandate on the wallet's page (`redirect_url`); Recoup reads the
outcome with `query`. A collection answers at once (`succeeded` or `failed`) or `pending`, when the
wallet's payment webhook settles it later naming `rac_9` as its `intent_reference`. The same
idempotency key answers the same mandate or collection: nothing is collected twice for one key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from recoup.channels.base import PermanentError
from recoup.channels.http import ProviderClient, classify, json_field, signed_json
from recoup.kit.clock import Clock, SystemClock


@dataclass(frozen=True)
class WalletPayment:
    wallet_id: str
    redirect_url: str


MANDATE_STATES = ("pending", "active", "cancelled", "failed")
COLLECTION_STATES = ("succeeded", "failed", "pending")


@dataclass(frozen=True)
class WalletMandate:
    wallet_id: str
    status: str  # one of MANDATE_STATES
    redirect_url: str | None = None


@dataclass(frozen=True)
class WalletCollection:
    wallet_id: str
    status: str  # one of COLLECTION_STATES
    reason: str | None = None
    received_at: str | None = None  # ISO 8601, when succeeded


class WalletPaymentsAdapter:
    name = "wallet-payments"

    def __init__(
        self,
        *,
        url: str,
        secret: str | Sequence[str],
        timeout: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        self.secrets: tuple[str, ...] = (secret,) if isinstance(secret, str) else tuple(secret)
        if not self.secrets or not all(self.secrets):
            raise ValueError("WalletPaymentsAdapter needs a signing secret")
        self.url = url.rstrip("/")
        self._clock = clock or SystemClock()
        self._client = ProviderClient(self.name, concurrency=4, timeout=timeout)

    def create(
        self,
        *,
        reference: str,
        user: str,
        account: str,
        amount_minor: int,
        currency: str,
        return_url: str,
        idempotency_key: str,
    ) -> WalletPayment:
        payload = {
            "reference": reference,
            "user": user,
            "account": account,
            "amount_minor": amount_minor,
            "currency": currency,
            "return_url": return_url,
            "idempotency_key": idempotency_key,
        }
        body, headers = signed_json(payload, self.secrets, self._clock)
        headers["Idempotency-Key"] = idempotency_key
        response = self._client.post(f"{self.url}/payments", content=body, headers=headers)
        classify(response, provider=self.name, redact=(user,))
        wallet_id, redirect = json_field(response, "id"), json_field(response, "redirect_url")
        if not wallet_id or not redirect:
            raise PermanentError("the wallet's answer has no payment id or redirect_url")
        return WalletPayment(wallet_id, redirect)

    def _call(self, path: str, payload: dict[str, object], key: str | None) -> httpx.Response:
        body, headers = signed_json(payload, self.secrets, self._clock)
        if key is not None:
            headers["Idempotency-Key"] = key
        response = self._client.post(f"{self.url}{path}", content=body, headers=headers)
        classify(response, provider=self.name)
        return response

    def create_mandate(
        self, *, reference: str, user: str, account: str, return_url: str, idempotency_key: str
    ) -> WalletMandate:
        """Ask for a mandate; the debtor approves it at `redirect_url`."""
        payload: dict[str, object] = {
            "reference": reference,
            "user": user,
            "account": account,
            "return_url": return_url,
            "idempotency_key": idempotency_key,
        }
        body, headers = signed_json(payload, self.secrets, self._clock)
        headers["Idempotency-Key"] = idempotency_key
        response = self._client.post(f"{self.url}/mandates", content=body, headers=headers)
        classify(response, provider=self.name, redact=(user,))
        mandate = _mandate(response)
        if mandate.status == "pending" and not mandate.redirect_url:
            raise PermanentError("the wallet's pending mandate has no redirect_url")
        return mandate

    def mandate(self, wallet_id: str) -> WalletMandate:
        return _mandate(self._call("/mandates/query", {"id": wallet_id}, None))

    def cancel_mandate(self, wallet_id: str, *, idempotency_key: str) -> WalletMandate:
        payload: dict[str, object] = {"id": wallet_id, "idempotency_key": idempotency_key}
        return _mandate(self._call("/mandates/cancel", payload, idempotency_key))

    def collect(
        self,
        *,
        mandate: str,
        reference: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
    ) -> WalletCollection:
        payload: dict[str, object] = {
            "mandate": mandate,
            "reference": reference,
            "amount_minor": amount_minor,
            "currency": currency,
            "idempotency_key": idempotency_key,
        }
        response = self._call("/mandates/collect", payload, idempotency_key)
        wallet_id, status = json_field(response, "id"), json_field(response, "status")
        if not wallet_id or status not in COLLECTION_STATES:
            raise PermanentError("the wallet's answer has no collection id or a status unknown")
        reason = json_field(response, "reason")
        return WalletCollection(
            wallet_id,
            status,
            reason[:200] if reason else None,
            json_field(response, "received_at"),
        )

    def close(self) -> None:
        self._client.close()


def _mandate(response: httpx.Response) -> WalletMandate:
    wallet_id, status = json_field(response, "id"), json_field(response, "status")
    if not wallet_id or status not in MANDATE_STATES:
        raise PermanentError("the wallet's answer has no mandate id or a status unknown")
    return WalletMandate(wallet_id, status, json_field(response, "redirect_url"))
