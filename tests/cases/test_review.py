"""A debtor asks a person to review the automated decisions about an account (PIPL art. 24): one
case, audited, in the reviews queue; asking again while it is open opens nothing; until a person
resolves it the shipped policy pauses the account (the fact `review_requested`), and afterwards
it decides again."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.cases import flows as case_flows
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from recoup.models import Account, AgentTask, AuditEvent, Case, StrategyDecision
from recoup.strategy import service as strategy_service
from tests.factories import add_bill, create_account, shanghai

DAY = dt.date(2026, 6, 20)
CN_POLICY = (resources.files("recoup.strategy") / "policies" / "cn-wallet.yaml").read_text(
    encoding="utf-8"
)


def late(session: Session, clock: SettableClock) -> Account:
    """¥500 due 15 days ago under the shipped CN policy: its early stage contacts the debtor."""
    from recoup.delinquency import service as delinquency_service

    clock.set(shanghai(DAY, 9))
    account = create_account(session, clock)
    add_bill(session, clock, account, DAY - dt.timedelta(days=15), 50_000)
    version = strategy_service.save_policy(
        session, CN_POLICY, author="lin", clock=clock, source="test"
    )
    strategy_service.activate(session, version.id, actor="lin", clock=clock)
    delinquency_service.run_daily(session, DAY, clock=clock)
    return account


def ask(
    session: Session, clock: SettableClock, account: Account, text: str | None = None
) -> tuple[Case, bool]:
    return case_flows.request_review(
        session,
        account.customer_id,
        account_ref=account.external_ref,
        text=text,
        opened_by="debtor",
        channel="portal",
        clock=clock,
    )


def decision(session: Session, account: Account) -> StrategyDecision:
    stmt = select(StrategyDecision).where(
        StrategyDecision.account_id == account.id, StrategyDecision.as_of_date == DAY
    )
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


class TestRequestReview:
    def test_asking_opens_one_audited_case_in_the_reviews_queue(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late(session, clock)
        case, new = ask(session, clock, account, "I was never told why.")
        assert new is True
        assert (case.kind, case.reason, case.status, case.account_id, case.text) == (
            "review",
            "automated_decision",
            "open",
            account.id,
            "I was never told why.",
        )
        tasks = session.execute(select(AgentTask).where(AgentTask.subject_id == case.id))
        assert [(t.queue, t.account_id) for t in tasks.scalars()] == [("reviews", account.id)]
        audited = session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.review.opened")
        ).scalars()
        assert [e.subject_id for e in audited] == [str(account.customer_id)]

    def test_asking_twice_opens_nothing_more(self, session: Session, clock: SettableClock) -> None:
        # Mechanism: `CaseRepository.open_review` consulted before adding.
        account = late(session, clock)
        first, _ = ask(session, clock, account)
        clock.advance(dt.timedelta(hours=2))
        second, new = ask(session, clock, account, "again")
        assert (second.id, new) == (first.id, False)
        assert len(session.execute(select(Case)).scalars().all()) == 1
        audited = session.execute(
            select(AuditEvent).where(AuditEvent.action == "case.review.opened")
        ).scalars()
        assert len(list(audited)) == 1

    def test_words_are_bounded(self, session: Session, clock: SettableClock) -> None:
        account = late(session, clock)
        with pytest.raises(ValidationFailed, match="at most 1,000 characters"):
            ask(session, clock, account, "x" * 1_001)
        assert session.execute(select(Case)).first() is None


class TestTheStrategyWaitsForAPerson:
    def test_the_shipped_policy_pauses_until_the_review_is_resolved(
        self, session: Session, clock: SettableClock
    ) -> None:
        # Mechanism: the fact `review_requested` (strategy facts) and the shipped policy's pause.
        account = late(session, clock)
        strategy_service.run(session, DAY, clock=clock)
        assert decision(session, account).decision == "contact"
        case, _ = ask(session, clock, account)
        facts = strategy_service.facts(session, DAY, [account.id])
        assert facts["review_requested"].to_list() == [True]
        paused = decision(session, account)
        assert (paused.decision, paused.pause_reason) == ("pause", "review_requested")

        case_flows.resolve_case(
            session,
            case.id,
            resolution="Checked by hand: the reminder stands.",
            by="s",
            clock=clock,
        )
        assert strategy_service.facts(session, DAY, [account.id])["review_requested"].to_list() == [
            False
        ]
        assert decision(session, account).decision == "contact"
