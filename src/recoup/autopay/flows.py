"""Collection: the daily run asks the wallet to collect, under each active mandate, each bill on
its due date, then again within the policy's retry limits after a failure.

Idempotent on rerun: each attempt is a row keyed (mandate, bill, attempt), claimed before the
wallet is asked. A rerun of the step finds the row and asks nothing; a request whose answer was
lost (the wallet did not answer, or this transaction rolled back after it did) is asked again with
the same idempotency key, which the wallet answers with the same collection. A collected amount
reaches the ledger through its one payment road (`ledger.flows.receive_payment`, idempotent on the
wallet's collection id), so the wallet's webhook confirming it later records nothing twice. A
failed collection leaves the bill to fall due as any other: the account is re-decided at once
(the facts `autopay_failed_days` and `autopay` say why), and the day's strategy run decides it
as usual.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recoup.autopay import repository as repo
from recoup.autopay import service as autopay_service
from recoup.channels import ChannelError, TransientError
from recoup.channels.wallet import WalletPaymentsAdapter
from recoup.kit.clock import Clock
from recoup.kit.logging import get_logger
from recoup.ledger import flows as ledger_flows
from recoup.ledger import schemas as ledger_schemas
from recoup.ledger.repository import AccountRepository
from recoup.models import AutopayCollection, AutopayMandate, Bill, CollectionStatus
from recoup.strategy import service as strategy_service

log = get_logger(__name__)


@dataclass
class CollectionRun:
    asked: int = 0
    succeeded: int = 0
    failed: int = 0
    pending: int = 0
    unanswered: int = 0  # asked again with the same key on the next run
    mandates_activated: int = 0
    failed_accounts: set[int] = field(default_factory=set)
    accounts: set[int] = field(default_factory=set)  # every account asked to pay

    def summary(self) -> dict[str, int]:
        return {
            "autopay_asked": self.asked,
            "autopay_collected": self.succeeded,
            "autopay_failed": self.failed,
        }


@dataclass(frozen=True)
class _Ask:
    mandate: AutopayMandate
    bill: Bill
    currency: str
    attempt: int
    row: AutopayCollection | None = None  # an earlier request left unanswered


def collect_day(
    session: Session, day: dt.date, *, wallet: WalletPaymentsAdapter, clock: Clock
) -> CollectionRun:
    """The day's collections (see the module), in the caller's transaction."""
    run = CollectionRun()
    for mandate in repo.pending_mandates(session):
        if autopay_service.refresh(session, mandate, wallet=wallet, clock=clock).state == "active":
            run.mandates_activated += 1
    with strategy_service.deferred_redecisions(session, clock=clock):
        for ask in _work(session, day):
            _collect(session, ask, day, wallet=wallet, clock=clock, run=run)
    log.info(
        "autopay.collected",
        day=day.isoformat(),
        asked=run.asked,
        succeeded=run.succeeded,
        failed=run.failed,
        pending=run.pending,
        unanswered=run.unanswered,
    )
    return run


def _work(session: Session, day: dt.date) -> list[_Ask]:
    """First attempts of the bills due, retries the policy allows today, and the requests left
    unanswered."""
    rules = autopay_service.rules(session)
    asks = [_Ask(m, b, currency, 1) for m, b, currency in repo.due_bills(session, day)]
    for c, m, b in repo.latest_collections(session):
        if c.status == CollectionStatus.requested:
            asks.append(_Ask(m, b, c.currency, c.attempt, row=c))
            continue
        ended = c.ended_at.date() if c.ended_at is not None else c.business_date
        next_try = max(c.business_date, ended) + dt.timedelta(days=rules.every_days)
        if c.attempt <= rules.retries and next_try <= day:
            asks.append(_Ask(m, b, c.currency, c.attempt + 1))
    return asks


def _collect(
    session: Session,
    ask: _Ask,
    day: dt.date,
    *,
    wallet: WalletPaymentsAdapter,
    clock: Clock,
    run: CollectionRun,
) -> None:
    amount = ask.bill.amount_due_minor - ask.bill.paid_minor
    if amount <= 0 or ask.mandate.wallet_ref is None:
        return
    row = ask.row or _claim(session, ask, day, amount, clock)
    if row is None:
        return  # claimed already (a rerun, or another process at the same time)
    run.asked += 1
    run.accounts.add(ask.mandate.account_id)
    try:
        answer = wallet.collect(
            mandate=ask.mandate.wallet_ref,
            reference=row.reference,
            amount_minor=row.amount_minor,
            currency=row.currency,
            idempotency_key=row.idempotency_key,
        )
    except TransientError as exc:
        run.unanswered += 1
        log.warning("autopay.collection_unanswered", collection_id=row.id, reason=exc.reason)
        return
    except ChannelError as exc:  # the wallet refused the request itself
        _failed(session, row, exc.reason, clock=clock, run=run)
        return
    if answer.status == "succeeded":
        _succeeded(session, row, answer.wallet_id, answer.received_at, clock=clock)
        run.succeeded += 1
    elif answer.status == "failed":
        repo.set_collection(
            session, row, status=row.status, at=clock.now(), wallet_ref=answer.wallet_id
        )
        _failed(session, row, answer.reason or "the wallet could not collect", clock=clock, run=run)
    else:
        repo.set_collection(
            session,
            row,
            status=CollectionStatus.pending,
            at=clock.now(),
            wallet_ref=answer.wallet_id,
        )
        run.pending += 1


def _claim(
    session: Session, ask: _Ask, day: dt.date, amount: int, clock: Clock
) -> AutopayCollection | None:
    try:
        with session.begin_nested():
            return repo.add_collection(
                session,
                mandate_id=ask.mandate.id,
                account_id=ask.mandate.account_id,
                bill_id=ask.bill.id,
                attempt=ask.attempt,
                business_date=day,
                amount_minor=amount,
                currency=ask.currency,
                status=CollectionStatus.requested,
                created_at=clock.now(),
            )
    except IntegrityError:
        return None


def _succeeded(
    session: Session,
    row: AutopayCollection,
    wallet_id: str,
    received_at: str | None,
    *,
    clock: Clock,
) -> None:
    account = AccountRepository(session).get(row.account_id)
    assert account is not None
    at = _instant(received_at) or clock.now()
    payment, _ = ledger_flows.receive_payment(
        session,
        ledger_schemas.PaymentCreate(
            external_id=wallet_id,
            account_ref=account.external_ref,
            amount_minor=row.amount_minor,
            currency=row.currency,
            received_at=min(at, clock.now()),
        ),
        clock=clock,
    )
    repo.set_collection(
        session,
        row,
        status=CollectionStatus.succeeded,
        at=clock.now(),
        wallet_ref=wallet_id,
        payment_id=payment.id,
    )


def _failed(
    session: Session, row: AutopayCollection, reason: str, *, clock: Clock, run: CollectionRun
) -> None:
    repo.set_collection(session, row, status=CollectionStatus.failed, at=clock.now(), reason=reason)
    run.failed += 1
    run.failed_accounts.add(row.account_id)
    log.info("autopay.collection_failed", collection_id=row.id, attempt=row.attempt)
    # Re-enters the strategy: decided again now, with `autopay_failed_days` = 0.
    strategy_service.redecide(session, row.account_id, clock=clock, cause="autopay_failed")


def _instant(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def collection_settled(
    session: Session,
    reference: str,
    *,
    payment_id: int | None,
    reason: str | None,
    clock: Clock,
) -> AutopayCollection | None:
    """The wallet's payment webhook named a pending collection (`rac_<id>`): collected (the
    webhook recorded the payment) or failed (re-decided, and retried within the policy's
    limits)."""
    if not reference.startswith("rac_") or not reference[4:].isdigit():
        return None
    row = repo.collection(session, int(reference[4:]))
    if row is None or row.status in (CollectionStatus.succeeded, CollectionStatus.failed):
        return row
    if payment_id is not None:
        repo.set_collection(
            session, row, status=CollectionStatus.succeeded, at=clock.now(), payment_id=payment_id
        )
    else:
        _failed(session, row, reason or "declined at the wallet", clock=clock, run=CollectionRun())
    return row
