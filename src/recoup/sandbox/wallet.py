"""The sandbox wallet: plays the wallet's payment API and its approval page, and calls Recoup's
signed payment webhook back when the tester approves or declines. Served by `recoup serve` when no
real wallet is configured outside production (`Settings.sandbox_wallet`).

It plays the autopay mandates too (`channels.wallet` documents the operations): a mandate waits
on its approval page until the tester approves or declines it there, and a collection answers at
once: collected, unless the amount is more than `SHORT_ABOVE_MINOR` (¥10,000), which fails as a
balance too short, so a demo can show a failed collection.

Its payments and mandates live in this process's memory: a sandbox, not a ledger.
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
SHORT_ABOVE_MINOR = 1_000_000


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
    _check(body, settings, clock, x_recoup_timestamp, x_recoup_signature)
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


def _check(
    body: bytes, settings: SettingsDep, clock: ClockDep, stamp: str | None, signature: str | None
) -> None:
    _, secrets = settings.wallet_api
    try:  # signed as Recoup signs its requests to the wallet; a sandbox remembers no receipts
        check_signature(
            [s.encode() for s in secrets],
            timestamp_header=stamp,
            signature_header=signature,
            body=body,
            tolerance=settings.webhook_tolerance_seconds,
            now=clock.now(),
        )
    except BadSignature as exc:
        raise BadSignature("the sandbox wallet accepts only signed requests") from exc


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


# Autopay mandates ----------------------------------------------------------------------------


@dataclass
class _Mandate:
    id: str
    reference: str
    account: str
    return_url: str
    status: str = "pending"


@dataclass
class _Collection:
    id: str
    status: str
    reason: str | None
    received_at: str | None


_mandates: dict[str, _Mandate] = {}
_collections: dict[str, _Collection] = {}  # by idempotency key


async def _signed_json(
    request: Request, settings: SettingsDep, clock: ClockDep, stamp: str | None, sig: str | None
) -> dict[str, object]:
    body = await request.body()
    _check(body, settings, clock, stamp, sig)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("not a JSON object")
    return data


def _mandate_json(m: _Mandate, base: str) -> dict[str, object]:
    return {
        "id": m.id,
        "status": m.status,
        "redirect_url": f"{base}/sandbox/wallet/mandate/{m.id}" if m.status == "pending" else None,
    }


def _mandate(mandate_id: object) -> _Mandate:
    with _lock:
        m = _mandates.get(str(mandate_id))
    if m is None:
        raise NotFound("no such sandbox mandate")
    return m


@router.post("/api/mandates")
async def create_mandate(
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    x_recoup_timestamp: Annotated[str | None, Header()] = None,
    x_recoup_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    data = await _signed_json(request, settings, clock, x_recoup_timestamp, x_recoup_signature)
    try:
        key = str(data["idempotency_key"])
        fields = (str(data["reference"]), str(data["account"]), str(data["return_url"]))
    except KeyError as exc:
        raise ValidationFailed(f"not a mandate request: {exc}") from exc
    with _lock:
        mandate_id = _by_key.get(key)
        if mandate_id is None:
            mandate_id = f"sbm_{next(_ids)}"
            _by_key[key] = mandate_id
            _mandates[mandate_id] = _Mandate(mandate_id, *fields)
        m = _mandates[mandate_id]
    return JSONResponse(_mandate_json(m, settings.public_url.rstrip("/")), status_code=201)


@router.post("/api/mandates/query")
async def query_mandate(
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    x_recoup_timestamp: Annotated[str | None, Header()] = None,
    x_recoup_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    data = await _signed_json(request, settings, clock, x_recoup_timestamp, x_recoup_signature)
    return JSONResponse(_mandate_json(_mandate(data.get("id")), settings.public_url.rstrip("/")))


@router.post("/api/mandates/cancel")
async def cancel_mandate(
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    x_recoup_timestamp: Annotated[str | None, Header()] = None,
    x_recoup_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    data = await _signed_json(request, settings, clock, x_recoup_timestamp, x_recoup_signature)
    m = _mandate(data.get("id"))
    m.status = "cancelled"
    return JSONResponse(_mandate_json(m, settings.public_url.rstrip("/")))


@router.post("/api/mandates/collect")
async def collect(
    request: Request,
    settings: SettingsDep,
    clock: ClockDep,
    x_recoup_timestamp: Annotated[str | None, Header()] = None,
    x_recoup_signature: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Collected at once, or failed: the mandate is not active, or the amount is more than the
    sandbox's balance (`SHORT_ABOVE_MINOR`). The same key answers the same collection."""
    data = await _signed_json(request, settings, clock, x_recoup_timestamp, x_recoup_signature)
    try:
        key, amount = str(data["idempotency_key"]), int(str(data["amount_minor"]))
    except (KeyError, ValueError) as exc:
        raise ValidationFailed(f"not a collection request: {exc}") from exc
    m = _mandate(data.get("mandate"))
    with _lock:
        done = _collections.get(key)
        if done is None:
            reason = (
                "mandate not active"
                if m.status != "active"
                else "balance short"
                if amount > SHORT_ABOVE_MINOR
                else None
            )
            done = _Collection(
                f"sbc_{next(_ids)}",
                "failed" if reason else "succeeded",
                reason,
                None if reason else clock.now().isoformat(),
            )
            _collections[key] = done
    return JSONResponse(
        {
            "id": done.id,
            "status": done.status,
            "reason": done.reason,
            "received_at": done.received_at,
        }
    )


@router.get("/mandate/{mandate_id}", response_class=HTMLResponse)
def mandate_page(mandate_id: str, settings: SettingsDep) -> HTMLResponse:
    m = _mandate(mandate_id)
    action = f"/sandbox/wallet/mandate/{html.escape(m.id)}"
    buttons = (
        (
            f'<form class="pay" method="post" action="{action}/approve">'
            '<button type="submit">同意自动扣款 / Approve autopay</button></form>'
            f'<form class="pay" method="post" action="{action}/decline">'
            '<button type="submit" class="secondary">拒绝 / Decline</button></form>'
        )
        if m.status == "pending"
        else f"<p>{html.escape(m.status)}</p>"
    )
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Sandbox wallet</title><link rel="stylesheet" href="/static/portal.css"></head>'
        "<body><main><h1>沙盒钱包 · Sandbox wallet</h1>"
        f'<section class="account"><h2>{html.escape(settings.creditor_name)} · '
        f"{html.escape(m.account)}</h2><p>授权到期自动扣款 · Let {html.escape(settings.creditor_name)} "
        f"collect each bill on its due date</p>{buttons}</section></main></body></html>"
    )
    return HTMLResponse(
        page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


@router.post("/mandate/{mandate_id}/approve")
def approve_mandate(mandate_id: str) -> RedirectResponse:
    m = _mandate(mandate_id)
    if m.status == "pending":
        m.status = "active"
    return RedirectResponse(m.return_url, status_code=303)


@router.post("/mandate/{mandate_id}/decline")
def decline_mandate(mandate_id: str) -> RedirectResponse:
    m = _mandate(mandate_id)
    if m.status == "pending":
        m.status = "failed"
    return RedirectResponse(m.return_url, status_code=303)
