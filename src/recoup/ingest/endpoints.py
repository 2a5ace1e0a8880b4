"""The wallet's signed payment webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from pydantic import TypeAdapter, ValidationError

from recoup.api.deps import ClockDep, SessionDep, SettingsDep
from recoup.api.errors import ERROR_RESPONSES
from recoup.arrangements import service as arrangement_service
from recoup.ingest import schemas
from recoup.ingest import service as ingest_service
from recoup.ingest.idempotency import body_of
from recoup.kit.errors import ValidationFailed
from recoup.ledger import flows
from recoup.ledger import schemas as ledger_schemas
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import PaymentRepository

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
RawBody = Annotated[bytes, Depends(body_of)]
Event = TypeAdapter(schemas.PaymentSucceeded | schemas.PaymentReversed | schemas.PaymentDeclined)


@router.post(
    "/wallet/payments", response_model=schemas.WebhookResult, summary="Wallet payment events"
)
def wallet_payment(
    body: RawBody,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    x_recoup_timestamp: Annotated[str | None, Header(description="Unix seconds")] = None,
    x_recoup_signature: Annotated[str | None, Header(description="v1=<hex HMAC-SHA256>")] = None,
) -> schemas.WebhookResult:
    """`payment.succeeded` (naming the pay-now intent it carries out, if any), `payment.declined`
    and `payment.reversed` from the wallet, signed with HMAC-SHA256 over
    `"{timestamp}.{body}"`. A bad signature is a 401, a stale timestamp a 401, a replayed delivery a
    409; none of them records anything. Redelivery of the same event is idempotent."""
    ingest_service.verify_webhook(
        session,
        source="wallet",
        secrets=settings.wallet_webhook_keys,
        timestamp_header=x_recoup_timestamp,
        signature_header=x_recoup_signature,
        body=body,
        tolerance=settings.webhook_tolerance_seconds,
        clock=clock,
    )
    try:
        event = Event.validate_json(body)
    except ValidationError as exc:
        raise ValidationFailed(
            "invalid event body", details=exc.errors(include_url=False, include_context=False)
        ) from exc
    if isinstance(event, schemas.PaymentDeclined):
        arrangement_service.intent_settled(
            session, event.intent_reference, payment_id=None, reason=event.reason, clock=clock
        )
        return schemas.WebhookResult(event_id=event.event_id, status="recorded")
    if isinstance(event, schemas.PaymentSucceeded):
        payment, created = flows.receive_payment(session, event.payment, clock=clock)
        if event.intent_reference:
            arrangement_service.intent_settled(
                session, event.intent_reference, payment_id=payment.id, reason=None, clock=clock
            )
    else:
        found = PaymentRepository(session).by_external_id(event.payment_external_id)
        if found is None:
            raise ValidationFailed(f"no payment {event.payment_external_id!r} to reverse")
        created = found.reversed_at is None
        payment = flows.reverse_payment(
            session, found.id, ledger_schemas.PaymentReversal(reason=event.reason), clock=clock
        )
    out = ledger_schemas.Payment.model_validate(payment)
    out.allocations = ledger_service.allocations_of(session, payment.id)
    return schemas.WebhookResult(
        event_id=event.event_id, status="recorded" if created else "already_recorded", payment=out
    )
