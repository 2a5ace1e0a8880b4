"""Re-decisions: an event (a payment, a reversal, a dispute...) re-decides its accounts at once,
with the active policy's compiled plan, in the event's transaction; work that handles many events
in one transaction defers them to one set-based pass (`deferred_redecisions`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from recoup.audit import service as audit_service
from recoup.contact import service as contact_service
from recoup.kit import frames
from recoup.kit.clock import Clock
from recoup.strategy import repository as repo
from recoup.strategy.repository import PolicyVersionRepository
from recoup.strategy.service.facts import business_days
from recoup.strategy.service.planning import decision_rows, plan, plan_rows
from recoup.strategy.service.versions import compiled


@dataclass
class Redecision:
    account_id: int
    cancelled: int
    decision: str | None
    planned: str | None  # the status of the new contact plan, if any


DEFERRED = "strategy.deferred_redecisions"


@contextmanager
def deferred_redecisions(session: Session, *, clock: Clock) -> Iterator[None]:
    """Within it, `redecide` notes the account and the cause, and the accounts are re-decided
    together when the block ends (one set-based pass instead of one per event): for work that
    handles many events in one transaction (the arrangements review, a batch of debtors' actions).
    Each account is re-decided once, for the last cause noted. Nested blocks join the outer one.
    A note made in a savepoint that is rolled back goes with it (a refused request changed
    nothing: its account is not re-decided for it, and its offers stay valid)."""
    if DEFERRED in session.info:
        yield
        return
    notes: dict[int, list[tuple[str, SessionTransaction | None]]] = {}
    session.info[DEFERRED] = notes
    event.listen(session, "after_soft_rollback", _forget_rolled_back)
    try:
        yield
    finally:
        event.remove(session, "after_soft_rollback", _forget_rolled_back)
        session.info.pop(DEFERRED, None)
    causes = {account_id: made[-1][0] for account_id, made in notes.items() if made}
    if causes:
        session.flush()  # the set-based reads see what the block changed
        redecide_many(session, causes, clock=clock)


def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """The notes made in a savepoint rolled back, or in one begun inside it, are dropped."""
    notes: dict[int, list[tuple[str, SessionTransaction | None]]] | None = session.info.get(
        DEFERRED
    )
    if not notes or not previous_transaction.nested:
        return
    for made in notes.values():
        made[:] = [(cause, t) for cause, t in made if not _within(t, previous_transaction)]


def _within(made_in: SessionTransaction | None, rolled_back: SessionTransaction) -> bool:
    while made_in is not None:
        if made_in is rolled_back:
            return True
        made_in = made_in.parent
    return False


def redecision_pending(session: Session, account_id: int) -> bool:
    """Whether `deferred_redecisions` holds a re-decision of the account back (an event changed it
    earlier in the block, and was not rolled back)."""
    return bool(session.info.get(DEFERRED, {}).get(account_id))


def redecide(session: Session, account_id: int, *, clock: Clock, cause: str) -> Redecision | None:
    """An event (a payment, a reversal, a dispute...) re-decides one account now, with the same
    compiled plan: its pending contacts are cancelled in the caller's transaction, and today's
    decision and contact plan are replaced by the new ones. Nothing happens without an active
    policy or a delinquency state; None then, or when `deferred_redecisions` holds it back."""
    notes = session.info.get(DEFERRED)
    if notes is not None:
        notes.setdefault(account_id, []).append((cause, session.get_nested_transaction()))
        return None
    done = redecide_many(session, {account_id: cause}, clock=clock)
    return done[0] if done else None


def redecide_many(session: Session, causes: Mapping[int, str], *, clock: Clock) -> list[Redecision]:
    """`redecide` for several accounts (account → cause) in one set-based pass."""
    version = PolicyVersionRepository(session).active()
    if version is None or not causes:
        return []
    policy = compiled(version)
    with frames.small_reads(session):
        state = repo.base_facts(session, list(causes))
    if state.height == 0:
        return []
    now = clock.now()
    cancelled = contact_service.cancel_pending(
        session,
        {a: f"redecided after {causes[a]}" for a in state["account_id"].to_list()},
        now=now,
        actor="event",
    )
    decided: list[pl.DataFrame] = []
    planned: list[pl.DataFrame] = []
    for (as_of,), group in business_days(session, state, now).group_by("today"):
        with frames.small_reads(session):
            decisions, contacts = plan(
                session, as_of, policy, now=now, accounts=group["account_id"].to_list()
            )
        if decisions.height == 0:
            continue
        decided.append(decision_rows(decisions, contacts, as_of, version.id, now))
        if contacts.height:
            planned.append(plan_rows(contacts, as_of, now))
    if not decided:
        return []
    rows = pl.concat(decided, how="vertical_relaxed")
    repo.upsert_decisions(session, rows)
    status: dict[int, str] = {}
    if planned:
        plans = pl.concat(planned, how="vertical_relaxed")
        contact_service.replan(session, plans, now=now, actor="event", causes=causes)
        status = dict(plans.select("account_id", "status").iter_rows())
    out = [
        Redecision(account_id, cancelled[account_id], decision, status.get(account_id))
        for account_id, decision in rows.select("account_id", "decision").iter_rows()
    ]
    audit_service.record_many(
        session,
        [
            audit_service.Entry(
                actor="event",
                action="strategy.redecided",
                subject_type="account",
                subject_id=r.account_id,
                details={
                    "cause": causes[r.account_id],
                    "cancelled": r.cancelled,
                    "decision": r.decision,
                },
            )
            for r in out
        ],
        clock=clock,
    )
    return out
