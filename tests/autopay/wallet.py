"""A local stand-in for the wallet's mandate API (`recoup.channels.wallet` documents it), on a real
socket: it checks the signature as the wallet does, keeps mandates and collections by their
idempotency keys (the same key answers the same one), and fails a collection when the user's
balance is short, as a test sets it."""

from __future__ import annotations

import itertools
from typing import Any

from recoup.kit import signing
from tests.channels.providers import FakeProvider, Request, Response

SECRET = "wallet-api-secret-for-tests"


class FakeWallet(FakeProvider):
    def __init__(self, secret: str = SECRET) -> None:
        super().__init__()
        self.secret = secret.encode()
        self.mandates: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, dict[str, Any]] = {}
        self.balance: dict[str, int] = {}  # account ref -> what a collection may take
        self._ids = itertools.count(1)

    def approve(self, mandate_id: str) -> None:
        self.mandates[mandate_id]["status"] = "active"

    def collections(self) -> list[Request]:
        return self.requests_to("/mandates/collect")

    def handle(self, request: Request) -> Response:
        stamp = request.headers.get("x-recoup-timestamp", "")
        header = request.headers.get("x-recoup-signature", "")
        if not stamp.isdigit() or not signing.verify(
            [self.secret], int(stamp), request.body, header
        ):
            return Response(401, {"error": "bad signature"})
        data = request.json()
        key = data.get("idempotency_key")
        if key is not None and key in self.by_key:
            return Response(200, self._answer_for(self.by_key[key]))
        if request.path == "/mandates":
            mandate = {
                "kind": "mandate",
                "id": f"m{next(self._ids)}",
                "status": "pending",
                "account": data["account"],
                "redirect_url": f"{self.url}/approve",
            }
            self.mandates[mandate["id"]] = mandate
            self.by_key[key] = mandate
            return Response(201, self._answer_for(mandate))
        mandate = self.mandates.get(str(data.get("id") or data.get("mandate")))
        if mandate is None:
            return Response(404, {"error": "no such mandate"})
        if request.path == "/mandates/query":
            return Response(200, self._answer_for(mandate))
        if request.path == "/mandates/cancel":
            mandate["status"] = "cancelled"
            self.by_key[key] = mandate
            return Response(200, self._answer_for(mandate))
        if request.path == "/mandates/collect":
            amount = int(data["amount_minor"])
            short = mandate["status"] != "active" or amount > self.balance.get(
                mandate["account"], 10**12
            )
            done = {
                "kind": "collection",
                "id": f"c{next(self._ids)}",
                "status": "failed" if short else "succeeded",
                "reason": "balance short" if short else None,
                "received_at": None,
            }
            if not short:
                self.balance[mandate["account"]] = (
                    self.balance.get(mandate["account"], 10**12) - amount
                )
            self.by_key[key] = done
            return Response(200, self._answer_for(done))
        return Response(404, {"error": "no such operation"})

    def _answer_for(self, thing: dict[str, Any]) -> dict[str, Any]:
        if thing["kind"] == "mandate":
            return {
                "id": thing["id"],
                "status": thing["status"],
                "redirect_url": thing["redirect_url"] if thing["status"] == "pending" else None,
            }
        return {k: thing[k] for k in ("id", "status", "reason", "received_at")}
