from __future__ import annotations

from typing import Literal

from pydantic import Field

from recoup.kit.schemas import Schema
from recoup.ledger.schemas import Payment, PaymentCreate


class PaymentSucceeded(Schema):
    event_id: str = Field(min_length=1, max_length=128, examples=["evt_01HZX"])
    type: Literal["payment.succeeded"]
    payment: PaymentCreate
    intent_reference: str | None = Field(
        None,
        max_length=64,
        description="Recoup's reference of the pay-now intent (`rpi_…`) or autopay collection "
        "(`rac_…`) this payment carries out, if any",
        examples=["rpi_42"],
    )


class PaymentDeclined(Schema):
    """The debtor declined (or the wallet refused) a pay-now intent: nothing is recorded but the
    intent's outcome."""

    event_id: str = Field(min_length=1, max_length=128)
    type: Literal["payment.declined"]
    intent_reference: str = Field(min_length=1, max_length=64, examples=["rpi_42"])
    reason: str = Field(min_length=1, max_length=256, examples=["declined by the user"])


class PaymentReversed(Schema):
    event_id: str = Field(min_length=1, max_length=128)
    type: Literal["payment.reversed"]
    payment_external_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=256, examples=["chargeback"])


class WebhookResult(Schema):
    event_id: str
    status: Literal["recorded", "already_recorded"]
    payment: Payment | None = Field(None, description="The payment recorded (none for a decline)")
