"""What the active policy offers an account now, and the position (owed, overdue) every offer is
computed from; a batch of debtors' requests works its offers out together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from recoup.arrangements import repository as repo
from recoup.arrangements import terms
from recoup.arrangements.repository import ArrangementRepository
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict
from recoup.ledger import service as ledger_service
from recoup.models import Account, Allocation, Arrangement, Bill
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import Offer


class NotOffered(Conflict):
    code = "not_offered"
    description = "The account is not offered this"


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
    held = _held(session, account.id)
    unpaid = (
        held.unpaid[account.id]
        if held is not None and held.unpaid is not None
        else [(b.due_date, left) for b, left in repo.unpaid_components(session, account.id)]
    )
    overdue = [(due, left) for due, left in unpaid if due < today]
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
        # Worked out by `batch`: they serve every request of the account (a refused promise
        # and the alternatives offered after it, a second message) until an event changes the
        # account, which notes its re-decision; from then on they are worked out afresh.
        if not strategy_service.redecision_pending(session, account.id):
            return {kind: dict(bounds) for kind, bounds in known[account.id].items()}
        del known[account.id]
    return _with_defaults(strategy_service.offers(session, account.id, clock=clock))


def _with_defaults(offers: list[Offer]) -> dict[str, dict[str, Any]]:
    return {o.kind: terms.with_defaults(o.kind, o.bounds) for o in offers}


OFFERED = "arrangements.offered"


@contextmanager
def batch(
    session: Session,
    account_ids: Collection[int],
    *,
    clock: Clock,
    positions_of: Collection[int] = (),
) -> Iterator[None]:
    """Several requests handled in one transaction (a batch of debtors' actions): the policy's
    offers to these accounts are worked out together up front (used while nothing in the batch
    has changed the account, that is while no re-decision of it is noted: then worked out
    again), and the accounts the requests touch are re-decided together at the end
    (`strategy_service.deferred_redecisions`). Give each request its own savepoint so a refused
    one leaves the others.

    On SQLite the bills and allocations of these accounts and of `positions_of` (what `position`
    counts), and which of them have an open arrangement (what `offered_bounds` refuses), are read
    together too, in three queries at the first request that asks, and serve while the account
    is unchanged (`_held` says when not). SQLite only: its transactions begin IMMEDIATE
    (`kit.db`), holding the write lock from the start, so nobody else writes between this read
    and a request's; on PostgreSQL a flow
    reads these after locking the account (another transaction may have written them since the
    batch began), and it still does."""
    known = strategy_service.offers_many(session, account_ids, clock=clock)
    session.info[OFFERED] = {a: _with_defaults(known.get(a, [])) for a in account_ids}
    read = set(account_ids) | set(positions_of)
    if session.get_bind().dialect.name == "sqlite":
        session.info[HELD] = _Held(valid=read)
    event.listen(session, "after_flush", _forget_flushed)
    event.listen(session, "do_orm_execute", _forget_written)
    try:
        with strategy_service.deferred_redecisions(session, clock=clock):
            yield
    finally:
        event.remove(session, "do_orm_execute", _forget_written)
        event.remove(session, "after_flush", _forget_flushed)
        session.info.pop(HELD, None)
        session.info.pop(OFFERED, None)


HELD = "arrangements.held"
# The tables `position` and `offered_bounds` read.
_READ = (Arrangement, Bill, Allocation)
_READ_TABLES = frozenset(m.__tablename__ for m in _READ)


@dataclass
class _Held:
    """What a batch read of its accounts: the accounts whose figures still hold (`valid`), their
    unpaid bills and which of them have an open arrangement (read at the first ask: a batch of
    complaints alone asks none)."""

    valid: set[int]
    unpaid: dict[int, list[tuple[dt.date, dict[str, int]]]] | None = None  # (due date, unpaid)
    open: set[int] = field(default_factory=set)


def _held(session: Session, account_id: int) -> _Held | None:
    """The batch's figures, when they still hold for the account: not once the account has
    changed. A change is known by the re-decision an event notes (a payment, an arrangement, a
    case: as for the offers) and, whatever wrote it, by an arrangement, bill or allocation of the
    account flushed through the session, or any written by an ORM statement. Pending changes are
    flushed first, as the query this stands for would (autoflush). An account once changed is
    read afresh to the batch's end (the figures are never read back in); one changed before the
    first ask is not read with the others."""
    held: _Held | None = session.info.get(HELD)
    if held is None or account_id not in held.valid:
        return None
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    if strategy_service.redecision_pending(session, account_id):
        held.valid.discard(account_id)
    if account_id not in held.valid:
        return None
    if held.unpaid is None:  # the first ask: every account still unchanged, in three queries
        held.unpaid = repo.unpaid_components_many(session, held.valid)
        held.open = repo.accounts_with_open_arrangement(session, held.valid)
    return held


def _forget_flushed(session: Session, flush_context: UOWTransaction) -> None:
    """An arrangement, bill or allocation flushed: its account's figures no longer hold."""
    held: _Held | None = session.info.get(HELD)
    if held is None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _READ):
            account_id = obj.__dict__.get("account_id")  # as loaded: no query in a flush
            if account_id is None:  # not loaded: whose it is is unknown, so none hold
                held.valid.clear()
                return
            held.valid.discard(account_id)


def _forget_written(state: ORMExecuteState) -> None:
    """An ORM insert, update or delete of arrangements, bills or allocations: which accounts it
    touched is not known here, so no figures hold."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    held: _Held | None = state.session.info.get(HELD)
    if held is not None and getattr(table, "name", None) in _READ_TABLES:
        held.valid.clear()


def offered_bounds(session: Session, account: Account, kind: str, clock: Clock) -> dict[str, Any]:
    held = _held(session, account.id)
    if held is not None:
        in_place = account.id in held.open
    else:
        in_place = ArrangementRepository(session).open_for_account(account.id) is not None
    if in_place:
        raise Conflict(
            "this account already has an arrangement in place; it ends first",
            details={"reason": "arrangement_in_place"},
        )
    bounds = offered(session, account, clock=clock).get(kind)
    if bounds is None:
        raise NotOffered(
            f"no {kind} is offered for this account now", details={"reason": "not_offered"}
        )
    return bounds
