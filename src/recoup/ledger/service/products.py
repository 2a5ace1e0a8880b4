"""Products: the defaults `recoup init` seeds, a product by its code, and business dates in its time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from sqlalchemy.orm import Session

from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.ledger.repository import ProductRepository
from recoup.models import Product, ProductKind

DEFAULT_PRODUCTS = (
    # code, name, kind, grace days
    ("bnpl", "Buy now, pay later instalments", ProductKind.bnpl, 0),
    ("credit_line", "Revolving credit line", ProductKind.credit_line, 0),
    ("micro_loan", "Micro-loan", ProductKind.micro_loan, 0),
)


def ensure_default_products(session: Session, *, clock: Clock) -> int:
    repo = ProductRepository(session)
    added = 0
    for code, name, kind, grace in DEFAULT_PRODUCTS:
        if repo.get(code) is None:
            repo.create(
                Product(
                    code=code,
                    name=name,
                    kind=kind,
                    grace_days=grace,
                    allocation={},
                    created_at=clock.now(),
                ),
                flush=False,
            )
            added += 1
    session.flush()
    return added


def product(session: Session, code: str) -> Product:
    found = ProductRepository(session).held(code)
    if found is None:
        raise ValidationFailed(f"unknown product {code!r}")
    return found


def value_date(received_at: dt.datetime, timezone: str) -> dt.date:
    return received_at.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def product_codes(session: Session) -> list[str]:
    return ProductRepository(session).codes()
