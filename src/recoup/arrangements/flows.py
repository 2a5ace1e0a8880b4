"""Making, keeping and breaking arrangements. Each moves the ledger, delinquency and the strategy
together, in the caller's one transaction, with the account row locked.

Effects (docs/repayment.md has the worked examples):

- promise: none on the ledger or on DPD; the strategy sees `promise_pending`, then a kept promise
  or one more of `broken_promises`.
- plan, `reage: pause`: DPD stops counting after the start (a delinquency pause) while the plan is
  kept; the fee, if any, is a bill due with the first instalment. Kept: the pause ends the day the
  last money came. Broken: the pause ends on the missed instalment's last day of grace, and DPD
  counts again from there as if the plan had never been (paused days never count).
- plan, `reage: reschedule`: what was unpaid at the start moves out of the old bills into one bill
  per instalment (adjustments record each move), so DPD is 0 at once and then counts from the
  instalments' own due dates.
- extension: once the fee has arrived (by the start plus grace), the fee becomes a bill due on the
  start, paid by that money, and the overdue balance moves to one bill due on the new date.
- settlement: once the agreed amount has arrived by its date, the rest of the balance is waived.

A reschedule moves what was unpaid *before the start*: payments from the start on are the
arrangement's own, and replaying the waterfall puts them on the new bills, so no money counts twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from recoup.arrangements import repository as repo
from recoup.arrangements import terms
from recoup.arrangements.repository import ArrangementRepository
from recoup.audit import service as audit_service
from recoup.delinquency import service as delinquency_service
from recoup.delinquency.repository import DelinquencyRepository
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.ledger import service as ledger_service
from recoup.ledger.allocation import Waterfall
from recoup.ledger.repository import AccountRepository
from recoup.models import (
    Account,
    Arrangement,
    ArrangementInstalment,
    ArrangementKind,
    ArrangementStatus,
    Bill,
    BillAdjustment,
)
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import Offer
from recoup.strategy.repository import PolicyVersionRepository

ONE_DAY = dt.timedelta(days=1)


class NotOffered(Conflict):
    code = "not_offered"


class TermsRefused(ValidationFailed):
    code = "terms_refused"


@dataclass(frozen=True)
class Position:
    """What the account owes on its business day: the numbers every offer is computed from."""

    today: dt.date
    owed: int
    overdue: int
    overdue_principal: int
    currency: str


def position(session: Session, account: Account, *, clock: Clock) -> Position:
    product = ledger_service.product(session, account.product_code)
    today = delinquency_service.business_today(product, clock)
    unpaid = repo.unpaid_components(session, account.id)
    overdue = [(b, left) for b, left in unpaid if b.due_date < today]
    return Position(
        today=today,
        owed=sum(sum(left.values()) for _, left in unpaid),
        overdue=sum(sum(left.values()) for _, left in overdue),
        overdue_principal=sum(left.get("principal", 0) for _, left in overdue),
        currency=account.currency,
    )


def offered(session: Session, account: Account, *, clock: Clock) -> dict[str, dict[str, Any]]:
    """kind → bounds (with defaults) of what the active policy offers this account now."""
    known: dict[int, dict[str, dict[str, Any]]] | None = session.info.get(OFFERED)
    if known is not None and account.id in known:
        bounds = known.pop(account.id)  # worked out by `batch`, used once
        if not strategy_service.redecision_pending(session, account.id):
            return bounds  # else something earlier in the batch changed the account
    return _with_defaults(strategy_service.offers(session, account.id, clock=clock))


def _with_defaults(offers: list[Offer]) -> dict[str, dict[str, Any]]:
    return {o.kind: terms.with_defaults(o.kind, o.bounds) for o in offers}


OFFERED = "arrangements.offered"


@contextmanager
def batch(session: Session, account_ids: Collection[int], *, clock: Clock) -> Iterator[None]:
    """Several requests handled in one transaction (a batch of debtors' actions): the policy's
    offers to these accounts are worked out together up front (each used once, and only while
    nothing earlier in the batch changed the account: otherwise they are worked out again), and the
    accounts the requests touch are re-decided together
    at the end (`strategy_service.deferred_redecisions`). Give each request its own savepoint so a
    refused one leaves the others."""
    known = strategy_service.offers_many(session, account_ids, clock=clock)
    session.info[OFFERED] = {a: _with_defaults(known.get(a, [])) for a in account_ids}
    try:
        with strategy_service.deferred_redecisions(session, clock=clock):
            yield
    finally:
        session.info.pop(OFFERED, None)


def _lock(session: Session, account: Account) -> Account:
    locked = AccountRepository(session).for_update(account.id)
    if locked is None:
        raise NotFound("no such account")
    return locked


def _bounds(session: Session, account: Account, kind: str, clock: Clock) -> dict[str, Any]:
    if ArrangementRepository(session).open_for_account(account.id) is not None:
        raise Conflict("this account already has an arrangement in place; it ends first")
    bounds = offered(session, account, clock=clock).get(kind)
    if bounds is None:
        raise NotOffered(f"no {kind} is offered for this account now")
    return bounds


def _refused(exc: terms.TermsRefused) -> TermsRefused:
    return TermsRefused(str(exc))


def _create(
    session: Session,
    account: Account,
    *,
    kind: ArrangementKind,
    status: ArrangementStatus,
    pos: Position,
    amount: int,
    fee: int,
    schedule: list[terms.Instalment],
    grace_days: int,
    details: dict[str, Any],
    made_by: str,
    channel: str,
    clock: Clock,
) -> Arrangement:
    version = PolicyVersionRepository(session).active()
    arrangement = Arrangement(
        account_id=account.id,
        customer_id=account.customer_id,
        kind=kind,
        status=status,
        currency=account.currency,
        amount_minor=amount,
        balance_minor=pos.owed,
        fee_minor=fee,
        start_date=pos.today,
        due_date=max(i.due_date for i in schedule),
        grace_days=grace_days,
        terms=details,
        paid_minor=0,
        policy_version=version.version if version else None,
        made_by=made_by,
        channel=channel,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(arrangement)
    session.flush()
    session.add_all(
        ArrangementInstalment(
            arrangement_id=arrangement.id,
            seq=i.seq,
            due_date=i.due_date,
            amount_minor=i.amount_minor,
        )
        for i in schedule
    )
    session.flush()
    audit_service.record(
        session,
        actor=made_by,
        action=f"arrangement.{kind}.made",
        subject_type="account",
        subject_id=account.id,
        clock=clock,
        details={
            "arrangement": arrangement.id,
            "status": str(status),
            "amount_minor": amount,
            "fee_minor": fee,
            "channel": channel,
            **details,
        },
    )
    return arrangement


def promise(
    session: Session,
    account: Account,
    *,
    amount_minor: int,
    on: dt.date,
    made_by: str,
    channel: str,
    clock: Clock,
) -> Arrangement:
    account = _lock(session, account)
    bounds = _bounds(session, account, "promise", clock)
    pos = position(session, account, clock=clock)
    try:
        inst = terms.promise_terms(
            bounds, amount=amount_minor, on=on, start=pos.today, overdue=pos.overdue, owed=pos.owed
        )
    except terms.TermsRefused as exc:
        raise _refused(exc) from exc
    made = _create(
        session,
        account,
        kind=ArrangementKind.promise,
        status=ArrangementStatus.active,
        pos=pos,
        amount=amount_minor,
        fee=0,
        schedule=[inst],
        grace_days=bounds["grace_days"],
        details={},
        made_by=made_by,
        channel=channel,
        clock=clock,
    )
    _redecide(session, account, clock, "promise made")
    return made


def plan_quote(
    session: Session,
    account: Account,
    *,
    instalments: int,
    monthly_budget: int | None,
    monthly_income: int | None,
    clock: Clock,
) -> tuple[int, list[terms.Instalment], dict[str, Any]]:
    """(fee, schedule, bounds) of the plan asked for, without making it: the schedule preview."""
    bounds = offered(session, account, clock=clock).get("plan")
    if bounds is None:
        raise NotOffered("no plan is offered for this account now")
    pos = position(session, account, clock=clock)
    fee, schedule = _quote(
        bounds,
        pos,
        instalments=instalments,
        monthly_budget=monthly_budget,
        monthly_income=monthly_income,
    )
    return fee, schedule, bounds


def _quote(
    bounds: dict[str, Any],
    pos: Position,
    *,
    instalments: int,
    monthly_budget: int | None,
    monthly_income: int | None,
) -> tuple[int, list[terms.Instalment]]:
    try:
        fee, schedule = terms.plan_quote(
            bounds,
            balance=pos.owed,
            instalments=instalments,
            start=pos.today,
            monthly_budget=monthly_budget,
            monthly_income=monthly_income,
        )
    except terms.TermsRefused as exc:
        fits = terms.plan_fits(
            bounds,
            balance=pos.owed,
            start=pos.today,
            monthly_budget=monthly_budget,
            monthly_income=monthly_income,
        )
        hint = f"; {fits} instalments would fit" if fits and fits != instalments else ""
        raise TermsRefused(f"{exc}{hint}") from exc
    return fee, schedule


def plan(
    session: Session,
    account: Account,
    *,
    instalments: int,
    monthly_budget: int | None,
    monthly_income: int | None,
    made_by: str,
    channel: str,
    clock: Clock,
) -> Arrangement:
    account = _lock(session, account)
    bounds = _bounds(session, account, "plan", clock)
    pos = position(session, account, clock=clock)
    fee, schedule = _quote(
        bounds,
        pos,
        instalments=instalments,
        monthly_budget=monthly_budget,
        monthly_income=monthly_income,
    )
    made = _create(
        session,
        account,
        kind=ArrangementKind.plan,
        status=ArrangementStatus.active,
        pos=pos,
        amount=pos.owed + fee,
        fee=fee,
        schedule=schedule,
        grace_days=bounds["grace_days"],
        details={
            "instalments": instalments,
            "every_days": bounds["every_days"],
            "reage": bounds["reage"],
            "monthly_budget_minor": monthly_budget,
            "monthly_income_minor": monthly_income,
        },
        made_by=made_by,
        channel=channel,
        clock=clock,
    )
    if bounds["reage"] == "reschedule":
        _reschedule(session, account, made, _unpaid_before(session, made), schedule)
    else:
        if fee:
            _fee_bill(session, account, made, schedule[0].due_date)
        delinquency_service.add_pause(  # from tomorrow: today has counted already
            session,
            account,
            start=pos.today + ONE_DAY,
            end=None,
            reason=f"payment plan {made.id}",
            by=made_by,
            clock=clock,
            exclusive=False,
        )
    _settle(session, account, made.start_date, clock, "plan made")
    return made


def extension(
    session: Session, account: Account, *, days: int, made_by: str, channel: str, clock: Clock
) -> Arrangement:
    account = _lock(session, account)
    bounds = _bounds(session, account, "extension", clock)
    pos = position(session, account, clock=clock)
    if pos.overdue <= 0:
        raise TermsRefused("nothing is overdue, so there is nothing to extend")
    try:
        fee, new_due, inst = terms.extension_terms(
            bounds, days=days, start=pos.today, overdue_principal=pos.overdue_principal
        )
    except terms.TermsRefused as exc:
        raise _refused(exc) from exc
    made = _create(
        session,
        account,
        kind=ArrangementKind.extension,
        status=ArrangementStatus.active,
        pos=pos,
        amount=fee,
        fee=fee,
        schedule=[inst],
        grace_days=bounds["grace_days"],
        details={"days": days, "new_due_date": new_due.isoformat()},
        made_by=made_by,
        channel=channel,
        clock=clock,
    )
    if fee == 0:  # nothing to wait for
        _keep(session, account, made, on=pos.today, paid=0, clock=clock)
        _settle(session, account, pos.today, clock, "extension made")
    else:
        _redecide(session, account, clock, "extension made")
    return made


def settlement(
    session: Session,
    account: Account,
    *,
    amount_minor: int,
    made_by: str,
    channel: str,
    clock: Clock,
) -> Arrangement:
    account = _lock(session, account)
    bounds = _bounds(session, account, "settlement", clock)
    pos = position(session, account, clock=clock)
    try:
        needs_approval, inst = terms.settlement_terms(
            bounds, amount=amount_minor, balance=pos.owed, start=pos.today
        )
    except terms.TermsRefused as exc:
        raise _refused(exc) from exc
    made = _create(
        session,
        account,
        kind=ArrangementKind.settlement,
        status=(
            ArrangementStatus.awaiting_approval if needs_approval else ArrangementStatus.active
        ),
        pos=pos,
        amount=amount_minor,
        fee=0,
        schedule=[inst],
        grace_days=bounds["grace_days"],
        details={"share_bps": amount_minor * terms.BPS // pos.owed},
        made_by=made_by,
        channel=channel,
        clock=clock,
    )
    _redecide(session, account, clock, "settlement made")
    return made


def make(
    session: Session,
    account: Account,
    kind: str,
    *,
    amount_minor: int | None = None,
    on: dt.date | None = None,
    instalments: int | None = None,
    monthly_budget: int | None = None,
    monthly_income: int | None = None,
    days: int | None = None,
    made_by: str,
    channel: str,
    clock: Clock,
) -> Arrangement:
    """Any kind from one set of fields (the API's and the portal's forms): each kind's own are
    required, and a missing one is named."""

    def need(value: Any, field: str) -> Any:
        if value is None:
            raise ValidationFailed(f"a {kind} needs {field}")
        return value

    who: dict[str, Any] = {"made_by": made_by, "channel": channel, "clock": clock}
    if kind == "promise":
        amount, day = need(amount_minor, "amount_minor"), need(on, "date")
        return promise(session, account, amount_minor=amount, on=day, **who)
    if kind == "plan":
        return plan(
            session,
            account,
            instalments=need(instalments, "instalments"),
            monthly_budget=monthly_budget,
            monthly_income=monthly_income,
            **who,
        )
    if kind == "extension":
        return extension(session, account, days=need(days, "days"), **who)
    if kind == "settlement":
        return settlement(session, account, amount_minor=need(amount_minor, "amount_minor"), **who)
    raise ValidationFailed(f"kind must be one of {', '.join(terms.OFFER_BOUNDS)}")


def decide_approval(
    session: Session, arrangement_id: int, *, approve: bool, by: str, clock: Clock
) -> Arrangement:
    """A supervisor approves or rejects a settlement that asked for more off than the policy lets
    anyone grant alone. The maker cannot approve their own."""
    arrangement = get(session, arrangement_id)
    if arrangement.status != ArrangementStatus.awaiting_approval:
        raise Conflict(
            f"arrangement {arrangement_id} is {arrangement.status}, not awaiting approval"
        )
    if arrangement.made_by == by:
        raise Forbidden("the person who made an arrangement cannot approve it")
    account = _lock(session, _account(session, arrangement))
    arrangement.status = ArrangementStatus.active if approve else ArrangementStatus.rejected
    arrangement.approved_by, arrangement.updated_at = by, clock.now()
    if not approve:
        arrangement.ended_on = delinquency_service.business_today(
            ledger_service.product(session, account.product_code), clock
        )
        arrangement.end_reason = "rejected"
    audit_service.record(
        session,
        actor=by,
        action="arrangement.approved" if approve else "arrangement.rejected",
        subject_type="account",
        subject_id=account.id,
        clock=clock,
        details={"arrangement": arrangement.id},
    )
    _redecide(session, account, clock, "settlement approved" if approve else "settlement rejected")
    return arrangement


def cancel(
    session: Session, arrangement_id: int, *, by: str, reason: str, clock: Clock
) -> Arrangement:
    """Withdraw an open arrangement (the debtor changed their mind, or staff corrected a mistake).
    A paused plan's pause ends today; bills already rescheduled stay as they are."""
    arrangement = get(session, arrangement_id)
    if arrangement.status not in (ArrangementStatus.active, ArrangementStatus.awaiting_approval):
        raise Conflict(
            f"arrangement {arrangement_id} is {arrangement.status}; only an open one ends"
        )
    account = _lock(session, _account(session, arrangement))
    today = delinquency_service.business_today(
        ledger_service.product(session, account.product_code), clock
    )
    _end(
        session,
        account,
        arrangement,
        ArrangementStatus.cancelled,
        on=today,
        reason=reason,
        clock=clock,
    )
    audit_service.record(
        session,
        actor=by,
        action="arrangement.cancelled",
        subject_type="account",
        subject_id=account.id,
        clock=clock,
        details={"arrangement": arrangement.id, "reason": reason},
    )
    _settle(session, account, today, clock, "arrangement cancelled")
    return arrangement


def get(session: Session, arrangement_id: int) -> Arrangement:
    found = ArrangementRepository(session).get(arrangement_id)
    if found is None:
        raise NotFound(f"no arrangement {arrangement_id}")
    return found


def _account(session: Session, arrangement: Arrangement) -> Account:
    account = session.get(Account, arrangement.account_id)
    assert account is not None
    return account


@dataclass
class Review:
    reviewed: int = 0
    kept: int = 0
    broken: int = 0


def review(
    session: Session,
    *,
    clock: Clock,
    account_id: int | None = None,
    cause: str = "daily",
    as_of: dt.date | None = None,
) -> Review:
    """Keep or break the active arrangements by the money that has arrived (all of them for the
    daily run, one account's after a payment), as of each product's business day (or `as_of`).
    Reads set-based; acts on the ones that change."""
    active = list(ArrangementRepository(session).active(account_id))
    result = Review(reviewed=len(active))
    if not active:
        return result
    with strategy_service.deferred_redecisions(session, clock=clock):
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
            arrangement.paid_minor, arrangement.updated_at = outcome.paid, clock.now()
        if outcome.status == "active":
            continue
        account = _lock(session, account)
        assert outcome.on is not None
        if outcome.status == "kept":
            _keep(session, account, arrangement, on=outcome.on, paid=outcome.paid, clock=clock)
            result.kept += 1
        else:
            _end(
                session,
                account,
                arrangement,
                ArrangementStatus.broken,
                on=outcome.on,
                reason=f"instalment {outcome.missed} not paid by {outcome.on.isoformat()}",
                clock=clock,
            )
            result.broken += 1
        audit_service.record(
            session,
            actor="system",
            action=f"arrangement.{outcome.status}",
            subject_type="account",
            subject_id=account.id,
            clock=clock,
            details={"arrangement": arrangement.id, "paid_minor": outcome.paid, "cause": cause},
        )
        why = f"arrangement {outcome.status}"
        if _moves_the_ledger(arrangement):
            _settle(session, account, outcome.on, clock, why)
        else:  # a promise, or what never applied: the ledger and DPD are as they were
            _redecide(session, account, clock, why)


def _moves_the_ledger(ended: Arrangement) -> bool:
    """Whether ending this arrangement changed bills, adjustments or pauses (so the waterfall is
    replayed and DPD recomputed): a plan (its pause lifted), a kept extension or settlement."""
    return ended.kind == ArrangementKind.plan or (
        ended.status == ArrangementStatus.kept
        and ended.kind in (ArrangementKind.extension, ArrangementKind.settlement)
    )


def _keep(
    session: Session,
    account: Account,
    arrangement: Arrangement,
    *,
    on: dt.date,
    paid: int,
    clock: Clock,
) -> None:
    arrangement.paid_minor = paid
    if arrangement.kind == ArrangementKind.extension:
        new_due = dt.date.fromisoformat(arrangement.terms["new_due_date"])
        overdue = [
            (bill, left)
            for bill, left in _unpaid_before(session, arrangement)
            if bill.due_date < arrangement.start_date
        ]
        if arrangement.fee_minor:
            _fee_bill(session, account, arrangement, arrangement.start_date)
        moved = sum(sum(left.values()) for _, left in overdue)
        _reschedule(session, account, arrangement, overdue, [terms.Instalment(1, new_due, moved)])
    elif arrangement.kind == ArrangementKind.settlement:
        _waive(session, account, arrangement, on=on)
    _end(session, account, arrangement, ArrangementStatus.kept, on=on, reason=None, clock=clock)


def _end(
    session: Session,
    account: Account,
    arrangement: Arrangement,
    status: ArrangementStatus,
    *,
    on: dt.date,
    reason: str | None,
    clock: Clock,
) -> None:
    arrangement.status, arrangement.ended_on, arrangement.end_reason = status, on, reason
    arrangement.updated_at = clock.now()
    if arrangement.kind == ArrangementKind.plan:
        plan_pauses = DelinquencyRepository(session).open_by_reason(
            f"payment plan {arrangement.id}"
        )
        for pause in plan_pauses:
            delinquency_service.lift_pause(session, account, pause, last_day=on, clock=clock)
    session.flush()


def _settle(session: Session, account: Account, since: dt.date, clock: Clock, cause: str) -> None:
    changed = ledger_service.reallocate(session, account)
    delinquency_service.recompute_account(
        session,
        account,
        from_date=min(d for d in (changed, since) if d is not None),
        clock=clock,
        cause="arrangement",
    )
    _redecide(session, account, clock, cause)


def _redecide(session: Session, account: Account, clock: Clock, cause: str) -> None:
    strategy_service.redecide(session, account.id, clock=clock, cause=cause)


def _unpaid_before(session: Session, arrangement: Arrangement) -> list[tuple[Bill, dict[str, int]]]:
    return repo.unpaid_components(session, arrangement.account_id, before=arrangement.start_date)


def _fee_bill(session: Session, account: Account, arrangement: Arrangement, due: dt.date) -> Bill:
    bill = ledger_service.issue_bill(
        session,
        account,
        external_ref=f"arrangement-{arrangement.id}-fee",
        due_date=due,
        principal_minor=0,
        interest_minor=0,
        fees_minor=arrangement.fee_minor,
        created_at=arrangement.updated_at or arrangement.created_at,
    )
    _adjust(
        session, arrangement, bill, "fees", arrangement.fee_minor, "fee", arrangement.start_date
    )
    return bill


def _adjust(
    session: Session,
    arrangement: Arrangement,
    bill: Bill,
    component: str,
    amount: int,
    kind: str,
    on: dt.date,
) -> None:
    session.add(
        BillAdjustment(
            account_id=bill.account_id,
            bill_id=bill.id,
            arrangement_id=arrangement.id,
            component=component,
            amount_minor=amount,
            kind=kind,
            effective_date=on,
            created_at=arrangement.updated_at or arrangement.created_at,
        )
    )


def _reschedule(
    session: Session,
    account: Account,
    arrangement: Arrangement,
    unpaid: list[tuple[Bill, dict[str, int]]],
    schedule: list[terms.Instalment],
) -> None:
    """Move what these bills had unpaid before the start (`_unpaid_before`) into one new bill per
    instalment."""
    moved: list[dict[str, int]] = []
    for bill, left in unpaid:
        for component, amount in left.items():
            setattr(bill, f"{component}_minor", getattr(bill, f"{component}_minor") - amount)
            _adjust(
                session,
                arrangement,
                bill,
                component,
                -amount,
                "rescheduled",
                arrangement.start_date,
            )
        moved.append(left)
    waterfall = Waterfall.from_config(
        ledger_service.product(session, account.product_code).allocation
    )
    parts = terms.fill_components(moved, [i.amount_minor for i in schedule], waterfall.components)
    instalment_rows = {
        i.seq: i for i in repo.instalments(session, [arrangement.id]).get(arrangement.id, [])
    }
    for inst, part in zip(schedule, parts, strict=True):
        bill = ledger_service.issue_bill(
            session,
            account,
            external_ref=f"arrangement-{arrangement.id}-{inst.seq}",
            due_date=inst.due_date,
            principal_minor=part.get("principal", 0),
            interest_minor=part.get("interest", 0),
            fees_minor=part.get("fees", 0) + part.get("fee", 0),
            created_at=arrangement.updated_at or arrangement.created_at,
        )
        for component, amount in part.items():
            kind = "fee" if component == "fee" else "rescheduled"
            _adjust(
                session,
                arrangement,
                bill,
                "fees" if component == "fee" else component,
                amount,
                kind,
                arrangement.start_date,
            )
        if inst.seq in instalment_rows:
            instalment_rows[inst.seq].bill_id = bill.id
    session.flush()


def _waive(session: Session, account: Account, arrangement: Arrangement, *, on: dt.date) -> None:
    """A kept settlement: whatever is still unpaid is forgiven, component by component."""
    for bill, left in repo.unpaid_components(session, account.id):
        for component, amount in left.items():
            setattr(bill, f"{component}_minor", getattr(bill, f"{component}_minor") - amount)
            _adjust(session, arrangement, bill, component, -amount, "waived", on)
    session.flush()
