"""A small history written through the real services (the test factories): accounts opened on
1 January 2026 with five monthly bills, and four kinds of payer, so both outcomes of both models
occur. The delinquency pass of the last day dates every bucket change."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.orm import Session

from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from tests.factories import add_bill, create_account, pay, shanghai

OPENED = dt.date(2026, 1, 1)
DUES = [dt.date(2026, m, 5) for m in range(2, 7)]  # 5 Feb .. 5 Jun
AMOUNT = 10_000
AS_OF = dt.date(2026, 6, 30)
KINDS = ("on_time", "late", "stops", "very_late")


def build(
    session: Session, clock: SettableClock, *, accounts: int = 48, seed: int = 7
) -> dict[int, str]:
    """Returns account id -> kind of payer. `on_time` pays each bill on its due date; `late`
    3-12 days after; `very_late` 35-50 days after (rolling to M2); `stops` pays the first two
    bills on time and nothing after."""
    rng = random.Random(seed)
    clock.set(shanghai(OPENED, 9))
    kinds: dict[int, str] = {}
    payments: list[tuple[dt.date, object, int]] = []
    for i in range(accounts):
        kind = KINDS[i % len(KINDS)]
        account = create_account(
            session, clock, product=("bnpl", "credit_line")[i % 2], opened=OPENED
        )
        kinds[account.id] = kind
        for due in DUES:
            add_bill(session, clock, account, due, AMOUNT)
        for n, due in enumerate(DUES):
            if kind == "on_time":
                when = due
            elif kind == "late":
                when = due + dt.timedelta(days=rng.randint(3, 12))
            elif kind == "very_late":
                when = due + dt.timedelta(days=rng.randint(35, 50))
            else:
                when = due if n < 2 else None  # type: ignore[assignment]
            if when is not None and when <= AS_OF:
                payments.append((when, account, AMOUNT))
    for when, account, amount in sorted(payments, key=lambda p: p[0]):
        clock.set(shanghai(when, 10))
        pay(session, clock, account, amount, shanghai(when, 10))  # type: ignore[arg-type]
    clock.set(shanghai(AS_OF, 6))
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    session.flush()
    return kinds
