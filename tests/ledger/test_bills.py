"""Bill components change only through the ledger: an arrangement that reschedules or waives asks
`ledger.service.take_off`, which refuses what a bill does not hold."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from recoup.kit.clock import SettableClock
from recoup.ledger import service as ledger_service
from tests.factories import add_bill, create_account


class TestTakeOff:
    def test_takes_the_amounts_off_the_named_components(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = create_account(session, clock)
        bill = add_bill(
            session, clock, account, dt.date(2026, 6, 1), 10_000, interest=500, fees=200
        )
        ledger_service.take_off(session, bill, {"principal": 4_000, "fees": 200})
        session.flush()
        session.refresh(bill)
        assert (bill.principal_minor, bill.interest_minor, bill.fees_minor) == (6_000, 500, 0)

    def test_refuses_more_than_a_component_holds_and_a_component_a_bill_has_not(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Catches the removal of take_off's checks: without them a bill goes negative (or
        grows an attribute) in silence."""
        account = create_account(session, clock)
        bill = add_bill(session, clock, account, dt.date(2026, 6, 1), 10_000, interest=500)
        with pytest.raises(ValueError, match="below zero"):
            ledger_service.take_off(session, bill, {"interest": 501})
        with pytest.raises(ValueError, match="no component"):
            ledger_service.take_off(session, bill, {"tip": 1})
        assert (bill.principal_minor, bill.interest_minor) == (10_000, 500)
