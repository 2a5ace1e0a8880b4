"""The sandbox wallet: plays the wallet's payment API and its approval page, and calls Recoup's
signed payment webhook back when the tester approves or declines. Served by `recoup serve` when no
real wallet is configured outside production (`Settings.sandbox_wallet`).

Its payments live in this process's memory: a sandbox, not a ledger.
"""

from __future__ import annotations

import html
import itertools
import json
import threading
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from recoup.http.deps import ClockDep, SettingsDep
from recoup.http.webhooks import check_signature
from recoup.kit import signing
from recoup.kit.errors import BadSignature, NotFound, ValidationFailed
from recoup.kit.money import format_money

router = APIRouter(prefix="/sandbox/wallet", include_in_schema=False)


@dataclass
class _Payment:
    id: str
    reference: str
    account: str
    amount_minor: int
    currency: str
    return_url: str
    status: str = "waiting"


_payments: dict[str, _Payment] = {}
_by_key: dict[str, str] = {}
_lock = threading.Lock()
_ids = itertools.count(1)


@router.post("/api/payments")
async def create_payment(
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    x_recoup_timestamp: Annotated[str | None, Header()] = None,
    x_recoup_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    body = await request.body()
    _, secrets = settings.wallet_api
    try:  # signed as Recoup signs its requests to the wallet; a sandbox remembers no receipts
        check_signature(
            [s.encode() for s in secrets],
            timestamp_header=x_recoup_timestamp,
            signature_header=x_recoup_signature,
            body=body,
            tolerance=settings.webhook_tolerance_seconds,
            now=clock.now(),
        )
    except BadSignature as exc:
        raise BadSignature("the sandbox wallet accepts only signed requests") from exc
    try:
        data = json.loads(body)
        key, amount = str(data["idempotency_key"]), int(data["amount_minor"])
        fields = (
            str(data["reference"]),
            str(data["account"]),
            str(data["currency"]),
            str(data["return_url"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed(f"not a payment request: {exc}") from exc
    with _lock:
        payment_id = _by_key.get(key)
        if payment_id is None:
            payment_id = f"sbx_{next(_ids)}"
            _by_key[key] = payment_id
            _payments[payment_id] = _Payment(
                payment_id, fields[0], fields[1], amount, fields[2], fields[3]
            )
    base = settings.public_url.rstrip("/")
    return JSONResponse(
        {"id": payment_id, "redirect_url": f"{base}/sandbox/wallet/pay/{payment_id}"},
        status_code=201,
    )


def _payment(payment_id: str) -> _Payment:
    with _lock:
        payment = _payments.get(payment_id)
    if payment is None:
        raise NotFound("no such sandbox payment")
    return payment


@router.get("/pay/{payment_id}", response_class=HTMLResponse)
def approval_page(payment_id: str, settings: SettingsDep) -> HTMLResponse:
    p = _payment(payment_id)
    amount = html.escape(format_money(p.amount_minor, p.currency, "zh_CN"))
    done = p.status != "waiting"
    buttons = (
        f"<p>{html.escape(p.status)}</p>"
        if done
        else (
            f'<form class="pay" method="post" action="/sandbox/wallet/pay/{html.escape(p.id)}/approve">'
            '<button type="submit">确认支付 / Approve</button></form>'
            f'<form class="pay" method="post" action="/sandbox/wallet/pay/{html.escape(p.id)}/decline">'
            '<button type="submit" class="secondary">取消 / Decline</button></form>'
        )
    )
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Sandbox wallet</title><link rel="stylesheet" href="/static/portal.css"></head>'
        "<body><main><h1>沙盒钱包 · Sandbox wallet</h1>"
        f'<section class="account"><h2>{html.escape(settings.creditor_name)} · '
        f'{html.escape(p.account)}</h2><p class="big">{amount}</p>{buttons}</section>'
        "</main></body></html>"
    )
    return HTMLResponse(
        page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


def _notify(p: _Payment, event: dict[str, object], settings: SettingsDep, clock: ClockDep) -> None:
    """Call Recoup's payment webhook as the wallet does, signed with the wallet's secret."""
    body = json.dumps(event).encode()
    stamp = int(clock.now().timestamp())
    key = settings.wallet_webhook_keys[0]
    response = httpx.post(
        f"{settings.public_url.rstrip('/')}/v1/webhooks/wallet/payments",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Recoup-Timestamp": str(stamp),
            "X-Recoup-Signature": signing.sign(key, stamp, body),
        },
        timeout=10,
    )
    response.raise_for_status()


@router.post("/pay/{payment_id}/approve")
def approve(payment_id: str, settings: SettingsDep, clock: ClockDep) -> RedirectResponse:
    p = _payment(payment_id)
    if p.status == "waiting":
        _notify(
            p,
            {
                "event_id": f"evt_{p.id}",
                "type": "payment.succeeded",
                "intent_reference": p.reference,
                "payment": {
                    "external_id": p.id,
                    "account_ref": p.account,
                    "amount_minor": p.amount_minor,
                    "currency": p.currency,
                    "received_at": clock.now().isoformat(),
                },
            },
            settings,
            clock,
        )
        p.status = "approved"
    return RedirectResponse(p.return_url, status_code=303)


@router.post("/pay/{payment_id}/decline")
def decline(payment_id: str, settings: SettingsDep, clock: ClockDep) -> RedirectResponse:
    p = _payment(payment_id)
    if p.status == "waiting":
        _notify(
            p,
            {
                "event_id": f"evt_{p.id}_declined",
                "type": "payment.declined",
                "intent_reference": p.reference,
                "reason": "declined in the sandbox wallet",
            },
            settings,
            clock,
        )
        p.status = "declined"
    return RedirectResponse(p.return_url, status_code=303)
