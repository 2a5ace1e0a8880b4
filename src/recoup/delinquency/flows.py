"""Work that spans domains: a pause changes what the strategy does with the account at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import Clock
from recoup.models import Account, DelinquencyPause, PauseKind
from recoup.strategy import service as strategy_service


def pause(
    session: Session,
    account: Account,
    *,
    start: dt.date,
    end: dt.date | None,
    kind: PauseKind,
    reason: str,
    by: str,
    clock: Clock,
) -> DelinquencyPause:
    """Add a pause and re-decide the account: a dispute or hardship pause cancels its pending
    contacts in the same transaction."""
    created = delinquency_service.add_pause(
        session, account, start=start, end=end, kind=kind, reason=reason, by=by, clock=clock
    )
    strategy_service.redecide(session, account.id, clock=clock, cause="pause")
    return created


def end_pause(
    session: Session, account: Account, pause: DelinquencyPause, *, end: dt.date, clock: Clock
) -> DelinquencyPause:
    ended = delinquency_service.end_pause(session, account, pause, end=end, clock=clock)
    strategy_service.redecide(session, account.id, clock=clock, cause="pause ended")
    return ended
