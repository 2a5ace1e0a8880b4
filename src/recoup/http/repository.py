"""All SQL of `recoup.http`, over the two tables it owns: `idempotency_records` and
`webhook_receipts`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from recoup.kit.repository import Repository
from recoup.models import IdempotencyRecord, WebhookReceipt


class IdempotencyRepository(Repository[IdempotencyRecord]):
    model = IdempotencyRecord

    def by_key(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self.get_one_or_none(
            self.base().where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        )

    def record(
        self,
        scope: str,
        key: str,
        *,
        request_hash: str,
        status_code: int,
        response: dict[str, Any],
        at: dt.datetime,
    ) -> IdempotencyRecord:
        return self.create(
            IdempotencyRecord(
                scope=scope,
                key=key,
                request_hash=request_hash,
                status_code=status_code,
                response=response,
                created_at=at,
            )
        )


class WebhookReceiptRepository(Repository[WebhookReceipt]):
    model = WebhookReceipt

    def seen(self, signature_hash: str) -> bool:
        return (
            self.session.execute(
                select(WebhookReceipt.id).where(WebhookReceipt.signature_hash == signature_hash)
            ).first()
            is not None
        )

    def record(self, source: str, signature_hash: str, *, at: dt.datetime) -> WebhookReceipt:
        """Added inside a savepoint: a concurrent copy of the same delivery raises IntegrityError
        without spoiling the request's transaction."""
        receipt = WebhookReceipt(source=source, signature_hash=signature_hash, received_at=at)
        with self.session.begin_nested():
            self.session.add(receipt)
        return receipt
