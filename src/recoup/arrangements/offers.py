"""What the active policy offers an account now, and the position (owed, overdue) every offer is
computed from; a batch of debtors' requests works its offers out together."""

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
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict
from recoup.ledger import service as ledger_service
from recoup.models import Account
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
def batch(session: Session, account_ids: Collection[int], *, clock: Clock) -> Iterator[None]:
    """Several requests handled in one transaction (a batch of debtors' actions): the policy's
    offers to these accounts are worked out together up front (used while nothing in the batch
    has changed the account, that is while no re-decision of it is noted: then worked out
    again), and the accounts the requests touch are re-decided together at the end (`strategy_service.deferred_redecisions`). Give each request its own savepoint so a
    refused one leaves the others."""
    known = strategy_service.offers_many(session, account_ids, clock=clock)
    session.info[OFFERED] = {a: _with_defaults(known.get(a, [])) for a in account_ids}
    try:
        with strategy_service.deferred_redecisions(session, clock=clock):
            yield
    finally:
        session.info.pop(OFFERED, None)


def offered_bounds(session: Session, account: Account, kind: str, clock: Clock) -> dict[str, Any]:
    if ArrangementRepository(session).open_for_account(account.id) is not None:
        raise Conflict("this account already has an arrangement in place; it ends first")
    bounds = offered(session, account, clock=clock).get(kind)
    if bounds is None:
        raise NotOffered(f"no {kind} is offered for this account now")
    return bounds
