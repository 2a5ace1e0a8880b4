from __future__ import annotations

from typing import Literal

from pydantic import Field

from recoup.kit.schemas import Schema
from recoup.ledger.schemas import Payment, PaymentCreate


class PaymentSucceeded(Schema):
    event_id: str = Field(min_length=1, max_length=128, examples=["evt_01HZX"])
    type: Literal["payment.succeeded"]
    payment: PaymentCreate


class PaymentReversed(Schema):
    event_id: str = Field(min_length=1, max_length=128)
    type: Literal["payment.reversed"]
    payment_external_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=256, examples=["chargeback"])


class WebhookResult(Schema):
    event_id: str
    status: Literal["recorded", "already_recorded"]
    payment: Payment
