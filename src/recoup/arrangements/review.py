"""Keeping and breaking arrangements by the money that has arrived. The review says what ended
(and whether the ending moved the ledger); it does not settle or re-decide: the settle flow
(`ledger.flows.settle_ended`) replays the waterfall, recomputes DPD and re-decides each account once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from recoup.arrangements import effects, terms
from recoup.arrangements import repository as repo
from recoup.arrangements.repository import ArrangementRepository
from recoup.audit import service as audit_service
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import Clock
from recoup.ledger import service as ledger_service
from recoup.models import Arrangement, ArrangementStatus


@dataclass(frozen=True)
class Ended:
    """An arrangement that ended: on which day, why (for the re-decision), and whether its ending
    moved the ledger (bills rescheduled or waived, a plan's pause lifted), so the waterfall is
    replayed and DPD recomputed from that day."""

    on: dt.date
    why: str
    moves_the_ledger: bool


@dataclass
class Review:
    reviewed: int = 0
    kept: int = 0
    broken: int = 0
    ended: dict[int, Ended] = field(default_factory=dict)  # by account
    accounts: set[int] = field(default_factory=set)  # of every arrangement reviewed


def review(
    session: Session,
    *,
    clock: Clock,
    account_ids: Collection[int] | None = None,
    cause: str = "daily",
    as_of: dt.date | None = None,
) -> Review:
    """Keep or break the active arrangements by the money that has arrived (all of them for the
    daily run, some accounts' after payments), as of each product's business day (or `as_of`).
    Reads set-based; ends the ones that are over and says so in `ended`; the caller settles them
    (`ledger.flows.settle_ended`)."""
    active = list(ArrangementRepository(session).active(account_ids))
    result = Review(reviewed=len(active), accounts={a.account_id for a in active})
    if active:
        _review(session, active, result, clock=clock, cause=cause, as_of=as_of)
        session.flush()
    return result


def _review(
    session: Session,
    active: list[Arrangement],
    result: Review,
    *,
    clock: Clock,
    cause: str,
    as_of: dt.date | None,
) -> None:
    ids = [a.id for a in active]
    schedules = repo.instalments(session, ids)
    money = repo.payments_since_start(session, ids)
    accounts = repo.accounts_by_id(session, {a.account_id for a in active})
    today_of: dict[str, dt.date] = {}
    over: list[tuple[Arrangement, terms.Assessment]] = []
    for arrangement in active:
        account = accounts[arrangement.account_id]
        if as_of is not None:
            today_of[account.product_code] = as_of
        elif account.product_code not in today_of:
            today_of[account.product_code] = delinquency_service.business_today(
                ledger_service.product(session, account.product_code), clock
            )
        outcome = terms.assess(
            [
                terms.Instalment(i.seq, i.due_date, i.amount_minor)
                for i in schedules[arrangement.id]
            ],
            start=arrangement.start_date,
            grace_days=arrangement.grace_days,
            payments=money.get(arrangement.id, []),
            today=today_of[account.product_code],
        )
        if outcome.paid != arrangement.paid_minor:
            repo.set_paid(session, arrangement, outcome.paid, at=clock.now())
        if outcome.status != "active":
            over.append((arrangement, outcome))
    if not over:
        return
    # The accounts of the arrangements that ended, locked together; their entries appended
    # together, in the same order, after the endings.
    locked = effects.lock_many(session, {a.account_id for a, _ in over})
    entries: list[audit_service.Entry] = []
    for arrangement, outcome in over:
        account = locked[arrangement.account_id]
        assert outcome.on is not None
        if outcome.status == "kept":
            effects.keep(
                session, account, arrangement, on=outcome.on, paid=outcome.paid, clock=clock
            )
            result.kept += 1
        else:
            effects.end(
                session,
                account,
                arrangement,
                ArrangementStatus.broken,
                on=outcome.on,
                reason=f"instalment {outcome.missed} not paid by {outcome.on.isoformat()}",
                clock=clock,
            )
            result.broken += 1
        entries.append(
            audit_service.Entry(
                actor="system",
                action=f"arrangement.{outcome.status}",
                subject_type="account",
                subject_id=account.id,
                details={"arrangement": arrangement.id, "paid_minor": outcome.paid, "cause": cause},
            )
        )
        result.ended[account.id] = Ended(
            outcome.on, f"arrangement {outcome.status}", effects.moves_the_ledger(arrangement)
        )
    audit_service.record_many(session, entries, clock=clock)
