"""SQL for autopay: mandates, collections, and the bills a day's collections are for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recoup.kit.db import among
from recoup.models import (
    OPEN_MANDATE_STATES,
    Account,
    AutopayCollection,
    AutopayMandate,
    Bill,
    CollectionStatus,
    MandateState,
)


def add_mandate(session: Session, **values: Any) -> AutopayMandate:
    mandate = AutopayMandate(**values)
    session.add(mandate)
    session.flush()
    return mandate


def mandate(session: Session, mandate_id: int) -> AutopayMandate | None:
    return session.get(AutopayMandate, mandate_id)


def open_mandate(session: Session, account_id: int) -> AutopayMandate | None:
    """The account's pending or active mandate (at most one is opened per account)."""
    return session.scalars(
        select(AutopayMandate)
        .where(
            AutopayMandate.account_id == account_id,
            AutopayMandate.state.in_(OPEN_MANDATE_STATES),
        )
        .order_by(AutopayMandate.id.desc())
        .limit(1)
    ).first()


def mandates_of(
    session: Session, customer_id: int, *, limit: int = 100, offset: int = 0
) -> Sequence[AutopayMandate]:
    return session.scalars(
        select(AutopayMandate)
        .where(AutopayMandate.customer_id == customer_id)
        .order_by(AutopayMandate.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()


def pending_mandates(session: Session) -> Sequence[AutopayMandate]:
    return session.scalars(
        select(AutopayMandate)
        .where(AutopayMandate.state == MandateState.pending, AutopayMandate.wallet_ref.is_not(None))
        .order_by(AutopayMandate.id)
    ).all()


def set_mandate(
    session: Session,
    m: AutopayMandate,
    *,
    at: dt.datetime,
    state: str | None = None,
    wallet_ref: str | None = None,
    redirect_url: str | None = None,
    by: str | None = None,
    reason: str | None = None,
) -> AutopayMandate:
    """The mandate's new state (and what comes with it: activation, cancellation, the reason)."""
    if wallet_ref is not None:
        m.wallet_ref = wallet_ref
    if redirect_url is not None:
        m.redirect_url = redirect_url
    if state is not None and state != m.state:
        m.state = state
        if state == MandateState.active:
            m.activated_at = at
        elif state in (MandateState.cancelled, MandateState.failed):
            m.cancelled_at, m.cancelled_by = at, by
    if reason is not None:
        m.reason = reason[:256]
    m.updated_at = at
    session.flush()
    return m


def due_bills(session: Session, day: dt.date) -> list[tuple[AutopayMandate, Bill, str]]:
    """First attempts: each active mandate's unpaid bills due on or before `day` and no earlier
    than the day it became active, with no collection yet under that mandate; with the account's
    currency."""
    tried = select(AutopayCollection.id).where(
        AutopayCollection.mandate_id == AutopayMandate.id,
        AutopayCollection.bill_id == Bill.id,
    )
    rows = session.execute(
        select(AutopayMandate, Bill, Account.currency)
        .join(Bill, Bill.account_id == AutopayMandate.account_id)
        .join(Account, Account.id == AutopayMandate.account_id)
        .where(
            AutopayMandate.state == MandateState.active,
            Bill.due_date <= day,
            Bill.paid_off_date.is_(None),
            ~tried.exists(),
        )
        .order_by(AutopayMandate.id, Bill.due_date, Bill.id)
    ).all()
    return [(m, b, c) for m, b, c in rows if m.activated_at is not None and b.due_date >= _date(m)]


def _date(m: AutopayMandate) -> dt.date:
    assert m.activated_at is not None
    return m.activated_at.date()


def latest_collections(session: Session) -> list[tuple[AutopayCollection, AutopayMandate, Bill]]:
    """The latest attempt of each (active mandate, unpaid bill) that was tried: the retries and
    the unanswered requests are among them."""
    latest = (
        select(func.max(AutopayCollection.id))
        .group_by(AutopayCollection.mandate_id, AutopayCollection.bill_id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(AutopayCollection, AutopayMandate, Bill)
        .join(AutopayMandate, AutopayMandate.id == AutopayCollection.mandate_id)
        .join(Bill, Bill.id == AutopayCollection.bill_id)
        .where(
            AutopayCollection.id.in_(latest),
            AutopayCollection.status.in_((CollectionStatus.failed, CollectionStatus.requested)),
            AutopayMandate.state == MandateState.active,
            Bill.paid_off_date.is_(None),
        )
        .order_by(AutopayCollection.id)
    ).all()
    return [(c, m, b) for c, m, b in rows]


def add_collection(session: Session, **values: Any) -> AutopayCollection:
    collection = AutopayCollection(**values)
    session.add(collection)
    session.flush()
    return collection


def collection(session: Session, collection_id: int) -> AutopayCollection | None:
    return session.get(AutopayCollection, collection_id)


def collection_by_wallet_ref(session: Session, wallet_ref: str) -> AutopayCollection | None:
    return session.scalars(
        select(AutopayCollection).where(AutopayCollection.wallet_ref == wallet_ref)
    ).first()


def set_collection(
    session: Session,
    c: AutopayCollection,
    *,
    status: str,
    at: dt.datetime,
    wallet_ref: str | None = None,
    payment_id: int | None = None,
    reason: str | None = None,
) -> AutopayCollection:
    c.status = status
    if wallet_ref is not None:
        c.wallet_ref = wallet_ref
    if payment_id is not None:
        c.payment_id = payment_id
    if reason is not None:
        c.reason = reason[:256]
    if status in (CollectionStatus.succeeded, CollectionStatus.failed):
        c.ended_at = at
    session.flush()
    return c


def collections_of(
    session: Session, mandate_ids: Sequence[int], *, limit: int = 50
) -> Sequence[AutopayCollection]:
    if not mandate_ids:
        return []
    return session.scalars(
        select(AutopayCollection)
        .where(among(session, AutopayCollection.mandate_id, mandate_ids))
        .order_by(AutopayCollection.id.desc())
        .limit(limit)
    ).all()
