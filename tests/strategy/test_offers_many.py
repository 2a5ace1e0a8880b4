"""`offers_many` works out the policy's offers to several accounts at once, the same as `offers`
for each: what the portal proposes and what a batch of debtors' requests is held to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from recoup.arrangements import flows
from recoup.kit.clock import SettableClock
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import Offer
from tests.arrangements.test_flows import DAY0, ONE_DAY, late_account
from tests.factories import create_account, pay, shanghai


def terms(offers: list[Offer]) -> list[tuple[str, dict[str, Any]]]:
    return [(o.kind, dict(o.bounds)) for o in offers]


class TestOffersMany:
    def test_several_accounts_get_what_each_would_be_offered_alone(
        self, session: Session, clock: SettableClock
    ) -> None:
        ten_days = late_account(session, clock)
        forty_days = late_account(session, clock, days_late=40)
        paid_up = late_account(session, clock)
        pay(session, clock, paid_up, 30_000, shanghai(DAY0))
        promised = late_account(session, clock)
        flows.promise(
            session,
            promised,
            amount_minor=10_000,
            on=DAY0 + 3 * ONE_DAY,
            made_by="debtor",
            channel="portal",
            clock=clock,
        )
        stateless = create_account(session, clock)
        ids = [ten_days.id, forty_days.id, paid_up.id, promised.id, stateless.id]

        together = strategy_service.offers_many(session, ids, clock=clock)

        alone = {i: strategy_service.offers(session, i, clock=clock) for i in ids}
        assert {i: terms(o) for i, o in together.items()} == {
            i: terms(o) for i, o in alone.items() if o
        }
        # Accounts in different states: some with offers, some without (absent from the map).
        assert {i: [k for k, _ in terms(o)] for i, o in together.items()} == {
            ten_days.id: ["promise", "extension", "plan", "settlement"],
            forty_days.id: ["promise", "plan", "settlement"],  # an extension is for 1-30 days
        }

    def test_nothing_asked_nothing_offered(self, session: Session, clock: SettableClock) -> None:
        late_account(session, clock)
        assert strategy_service.offers_many(session, [], clock=clock) == {}
