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
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from recoup.arrangements import effects, terms
from recoup.arrangements import repository as repo
from recoup.arrangements.offers import NotOffered, Position, offered, offered_bounds, position
from recoup.arrangements.repository import ArrangementRepository
from recoup.audit import service as audit_service
from recoup.contact import service as contact_service
from recoup.delinquency import service as delinquency_service
from recoup.delinquency.repository import DelinquencyRepository
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from recoup.ledger import flows as ledger_flows
from recoup.ledger import service as ledger_service
from recoup.models import (
    Account,
    Arrangement,
    ArrangementKind,
    ArrangementStatus,
    PauseKind,
)
from recoup.strategy import service as strategy_service
from recoup.strategy.repository import PolicyVersionRepository

ONE_DAY = dt.timedelta(days=1)


class TermsRefused(ValidationFailed):
    code = "terms_refused"
    description = "The terms fall outside what the policy allows"


def _refused(exc: terms.TermsRefused, **more: int) -> TermsRefused:
    """The terms' refusal as the error endpoints and pages render; `details` carries its reason
    and bounds, which the portal words in the debtor's language."""
    hint = f"; {more['fits']} instalments would fit" if "fits" in more else ""
    return TermsRefused(f"{exc}{hint}", details={"reason": exc.reason, **exc.values, **more})


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
    arrangement = repo.add_arrangement(
        session,
        [(i.seq, i.due_date, i.amount_minor) for i in schedule],
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
    account = effects.lock(session, account)
    bounds = offered_bounds(session, account, "promise", clock)
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
        raise NotOffered(
            "no plan is offered for this account now", details={"reason": "not_offered"}
        )
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
        raise _refused(exc, **({"fits": fits} if fits and fits != instalments else {})) from exc
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
    account = effects.lock(session, account)
    bounds = offered_bounds(session, account, "plan", clock)
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
        effects.reschedule(session, account, made, effects.unpaid_before(session, made), schedule)
    else:
        if fee:
            effects.fee_bill(session, account, made, schedule[0].due_date)
        delinquency_service.add_pause(  # from tomorrow: today has counted already
            session,
            account,
            start=pos.today + ONE_DAY,
            end=None,
            kind=PauseKind.plan,
            reason=f"payment plan {made.id}",
            by=made_by,
            clock=clock,
            exclusive=False,
            arrangement_id=made.id,
        )
    _settle(session, account, made.start_date, clock, "plan made")
    return made


def extension(
    session: Session, account: Account, *, days: int, made_by: str, channel: str, clock: Clock
) -> Arrangement:
    account = effects.lock(session, account)
    bounds = offered_bounds(session, account, "extension", clock)
    pos = position(session, account, clock=clock)
    if pos.overdue <= 0:
        raise TermsRefused(
            "nothing is overdue, so there is nothing to extend",
            details={"reason": "nothing_overdue"},
        )
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
        effects.keep(session, account, made, on=pos.today, paid=0, clock=clock)
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
    account = effects.lock(session, account)
    bounds = offered_bounds(session, account, "settlement", clock)
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
            raise ValidationFailed(
                f"a {kind} needs {field}", details={"reason": "missing", "field": field}
            )
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


MAX_REASON = 256


@dataclass(frozen=True)
class Approval:
    """An arrangement waiting for a supervisor, with what the decision needs beside it: what the
    account owes now and its days past due, the share of the balance asked for, and the bounds the
    active policy offers now (None when it no longer offers the kind)."""

    arrangement: Arrangement
    owed_minor: int
    dpd: int | None
    asked_share_bps: int
    bounds: dict[str, Any] | None


def approvals(session: Session, *, clock: Clock, limit: int = 100) -> list[Approval]:
    """What waits for a supervisor (`awaiting_approval`), oldest first."""
    waiting = list(ArrangementRepository(session).awaiting_approval(limit=limit))
    accounts = repo.accounts_by_id(session, {a.account_id for a in waiting})
    states = DelinquencyRepository(session).states_of(set(accounts))
    out = []
    for arrangement in waiting:
        account = accounts[arrangement.account_id]
        pos = position(session, account, clock=clock)
        state = states.get(account.id)
        balance = arrangement.balance_minor or 1
        out.append(
            Approval(
                arrangement=arrangement,
                owed_minor=pos.owed,
                dpd=state.dpd if state is not None else None,
                asked_share_bps=int(
                    arrangement.terms.get(
                        "share_bps", arrangement.amount_minor * terms.BPS // balance
                    )
                ),
                bounds=offered(session, account, clock=clock).get(arrangement.kind),
            )
        )
    return out


ANSWERS = {True: "settlement_approved", False: "settlement_refused"}


def decide_approval(
    session: Session,
    arrangement_id: int,
    *,
    approve: bool,
    by: str,
    clock: Clock,
    reason: str | None = None,
) -> Arrangement:
    """A supervisor approves or rejects a settlement that asked for more off than the policy lets
    anyone grant alone. The maker cannot approve their own (four eyes: `made_by` against the
    approver). The debtor is told either way, through the outbox (`contact.service.tell_debtor`);
    a refusal's reason is kept on the arrangement and in the audit ledger, never sent."""
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise ValidationFailed(f"reason: at most {MAX_REASON} characters")
    arrangement = get(session, arrangement_id)
    if arrangement.status != ArrangementStatus.awaiting_approval:
        raise Conflict(
            f"arrangement {arrangement_id} is {arrangement.status}, not awaiting approval"
        )
    if arrangement.made_by == by:
        raise Forbidden("the person who made an arrangement cannot approve it")
    account = effects.lock(session, effects.account_of(session, arrangement))
    repo.approved(session, arrangement, approve=approve, by=by, at=clock.now())
    if not approve:
        today = delinquency_service.business_today(
            ledger_service.product(session, account.product_code), clock
        )
        repo.end(
            session, arrangement, ArrangementStatus.rejected, on=today, reason=reason or "rejected"
        )
    audit_service.record(
        session,
        actor=by,
        action="arrangement.approved" if approve else "arrangement.rejected",
        subject_type="account",
        subject_id=account.id,
        clock=clock,
        details={"arrangement": arrangement.id, **({"reason": reason} if reason else {})},
    )
    contact_service.tell_debtor(
        session,
        account_id=account.id,
        customer_id=account.customer_id,
        template=ANSWERS[approve],
        subject=f"arrangement:{arrangement.id}",
        actor=by,
        clock=clock,
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
    account = effects.lock(session, effects.account_of(session, arrangement))
    today = delinquency_service.business_today(
        ledger_service.product(session, account.product_code), clock
    )
    effects.end(
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


def _settle(session: Session, account: Account, since: dt.date, clock: Clock, cause: str) -> None:
    ledger_flows.settle(session, {account.id: since}, clock=clock, cause=cause)


def _redecide(session: Session, account: Account, clock: Clock, cause: str) -> None:
    strategy_service.redecide(session, account.id, clock=clock, cause=cause)
