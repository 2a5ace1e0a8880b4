"""The wallet's signed payment webhook: `recoup.http.webhooks` verifies and reads the delivery, one
handler per event type records it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from recoup.arrangements import service as arrangement_service
from recoup.autopay import flows as autopay_flows
from recoup.config import Settings
from recoup.http.deps import ClockDep, SessionDep
from recoup.http.openapi import request_body
from recoup.http.webhooks import WEBHOOK_RESPONSES, SignedWebhook, json_event
from recoup.ingest import schemas
from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.ledger import flows
from recoup.ledger import schemas as ledger_schemas
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import PaymentRepository
from recoup.models import Payment

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=WEBHOOK_RESPONSES)

Event = schemas.PaymentSucceeded | schemas.PaymentReversed | schemas.PaymentDeclined


def _wallet_secrets(settings: Settings) -> list[bytes]:
    return settings.wallet_webhook_keys


WalletEvent = Annotated[
    Event,
    Depends(
        SignedWebhook(
            "wallet", _wallet_secrets, json_event(TypeAdapter[Event](Event), "invalid event body")
        )
    ),
]


def _recorded(
    session: Session, event: Event, payment: Payment, *, created: bool
) -> schemas.WebhookResult:
    out = ledger_schemas.Payment.model_validate(payment)
    out.allocations = ledger_service.allocations_of(session, payment.id)
    return schemas.WebhookResult(
        event_id=event.event_id, status="recorded" if created else "already_recorded", payment=out
    )


def payment_succeeded(
    session: Session, event: schemas.PaymentSucceeded, clock: Clock
) -> schemas.WebhookResult:
    """Record the payment (once per external id) and settle the pay-now intent it names."""
    payment, created = flows.receive_payment(session, event.payment, clock=clock)
    if event.intent_reference:
        arrangement_service.intent_settled(
            session, event.intent_reference, payment_id=payment.id, reason=None, clock=clock
        )
        autopay_flows.collection_settled(
            session, event.intent_reference, payment_id=payment.id, reason=None, clock=clock
        )
    return _recorded(session, event, payment, created=created)


def payment_declined(
    session: Session, event: schemas.PaymentDeclined, clock: Clock
) -> schemas.WebhookResult:
    """Nothing is recorded but the outcome of the intent or autopay collection it names (a
    failed collection re-enters the strategy: `autopay.flows`)."""
    arrangement_service.intent_settled(
        session, event.intent_reference, payment_id=None, reason=event.reason, clock=clock
    )
    autopay_flows.collection_settled(
        session, event.intent_reference, payment_id=None, reason=event.reason, clock=clock
    )
    return schemas.WebhookResult(event_id=event.event_id, status="recorded")


def payment_reversed(
    session: Session, event: schemas.PaymentReversed, clock: Clock
) -> schemas.WebhookResult:
    """A chargeback of a payment on record; reversing twice changes nothing."""
    found = PaymentRepository(session).by_external_id(event.payment_external_id)
    if found is None:
        raise ValidationFailed(f"no payment {event.payment_external_id!r} to reverse")
    created = found.reversed_at is None
    payment = flows.reverse_payment(
        session, found.id, ledger_schemas.PaymentReversal(reason=event.reason), clock=clock
    )
    return _recorded(session, event, payment, created=created)


HANDLERS: dict[str, Callable[[Session, Any, Clock], schemas.WebhookResult]] = {
    "payment.succeeded": payment_succeeded,
    "payment.declined": payment_declined,
    "payment.reversed": payment_reversed,
}


@router.post(
    "/wallet/payments",
    response_model=schemas.WebhookResult,
    summary="Wallet payment events",
    openapi_extra=request_body(Event),
)
def wallet_payment(
    event: WalletEvent, session: SessionDep, clock: ClockDep
) -> schemas.WebhookResult:
    """`payment.succeeded` (naming the pay-now intent it carries out, if any), `payment.declined`
    and `payment.reversed` from the wallet, signed with HMAC-SHA256 over
    `"{timestamp}.{body}"`. A bad signature is a 401, a stale timestamp a 401, a replayed delivery a
    409; none of them records anything. Redelivery of the same event is idempotent."""
    return HANDLERS[event.type](session, event, clock)
