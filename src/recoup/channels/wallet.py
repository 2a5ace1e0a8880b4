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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recoup.channels.base import PermanentError
from recoup.channels.http import ProviderClient, classify, json_field, signed_json
from recoup.kit.clock import Clock, SystemClock


@dataclass(frozen=True)
class WalletPayment:
    wallet_id: str
    redirect_url: str


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

    def close(self) -> None:
        self._client.close()
