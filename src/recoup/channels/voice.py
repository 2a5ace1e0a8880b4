"""Click-to-call: an agent asks to call a debtor; the telephony provider rings the agent's phone
and bridges the call to the debtor's number, so the number never reaches the agent's screen.

The provider's webhook receives a signed JSON POST (recoup.kit.signing headers, Idempotency-Key):

    {"agent": "<the agent's extension or number>", "to": "<E.164>", "idempotency_key": "...",
     "data": {"contact_id": "...", "account_id": "..."}}

and answers 2xx, optionally `{"id": "<call id>"}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from recoup.channels.base import Accepted, Outgoing, PermanentError
from recoup.channels.http import ProviderClient, classify, json_field, signed_json
from recoup.kit.clock import Clock, SystemClock


class ClickToCallAdapter:
    name = "click-to-call"
    channel = "dial"

    def __init__(
        self,
        *,
        url: str,
        secret: str | Sequence[str],
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        concurrency: int = 4,
        rate_per_second: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.secrets: tuple[str, ...] = (secret,) if isinstance(secret, str) else tuple(secret)
        if not self.secrets or not all(self.secrets):
            raise ValueError("ClickToCallAdapter needs a signing secret")
        self.url = url
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._clock = clock or SystemClock()
        self._client = ProviderClient(
            self.name, concurrency=concurrency, timeout=timeout, headers=headers
        )

    def send(self, message: Outgoing) -> Accepted:
        agent = message.metadata.get("agent")
        if not agent:
            raise PermanentError("click-to-call needs the agent's extension or number")
        payload = {
            "agent": agent,
            "to": message.to,
            "idempotency_key": message.idempotency_key,
            "data": {k: v for k, v in message.metadata.items() if k != "agent"},
        }
        body, headers = signed_json(payload, self.secrets, self._clock)
        headers["Idempotency-Key"] = message.idempotency_key
        response = self._client.post(self.url, content=body, headers=headers)
        classify(response, provider=self.name, redact=(message.to, agent))
        return Accepted(provider=self.name, provider_id=json_field(response, "id"))

    def close(self) -> None:
        self._client.close()
