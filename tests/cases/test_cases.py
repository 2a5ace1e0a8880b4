"""Disputes and hardship pause collection at once and until a person resolves them; complaints
reach a person; reasons and sizes are checked."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.cases import flows
from recoup.kit.clock import SettableClock
from recoup.models import AgentTask, ContactEvent, ContactPlan, DelinquencyPause, StrategyDecision
from recoup.strategy import service as strategy_service
from tests.arrangements.test_flows import DAY0, ONE_DAY, late_account, on


def latest_decision(session: Session, account_id: int) -> StrategyDecision:
    return session.execute(
        select(StrategyDecision).where(StrategyDecision.account_id == account_id)
    ).scalar_one()


POLICY_WITH_DISPUTES = (
    "pauses:\n  - {reason: dispute, when: dispute_open}\n  - {reason: hardship, when: hardship}\n"
)


class TestCases:
    def test_a_dispute_cancels_pending_contacts_and_pauses_until_resolved(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        strategy_service.run(session, DAY0, clock=clock)
        planned = session.execute(
            select(ContactPlan).where(ContactPlan.account_id == account.id)
        ).scalar_one()
        assert planned.status in ("planned", "deferred")
        case = flows.open_case(
            session,
            account.customer_id,
            kind="dispute",
            reason="wrong_amount",
            text="我已经在6月1日还过这笔钱了",
            account_ref=account.external_ref,
            opened_by="debtor",
            channel="portal",
            clock=clock,
        )
        # Read from the database (the re-decision writes set-based): the pending contact was
        # cancelled, and planned again it is blocked by the open dispute, so it never leaves.
        session.refresh(planned)
        assert planned.status in ("cancelled", "blocked")
        assert "cancelled" in [
            e.status
            for e in session.execute(
                select(ContactEvent).where(ContactEvent.contact_id == planned.id)
            ).scalars()
        ]
        facts = strategy_service.facts(session, DAY0, [account.id])
        assert facts["dispute_open"][0] is True
        task = session.execute(select(AgentTask).where(AgentTask.queue == "disputes")).scalar_one()
        assert (task.account_id, task.subject_id, task.source) == (account.id, case.id, "case")
        on(clock, DAY0)
        flows.resolve_case(
            session, case.id, resolution="statement sent", by="staff:cho", clock=clock
        )
        assert case.status == "resolved"
        assert strategy_service.facts(session, DAY0, [account.id])["dispute_open"][0] is False

    def test_a_case_finds_its_own_pause_by_the_case_not_by_its_reason(
        self, session: Session, clock: SettableClock
    ) -> None:
        """A dispute's pause names its case and ends when the case is resolved, even after staff
        reworded its reason; a hardship case's pause on the same account stays."""
        account = late_account(session, clock)
        opened = {
            kind: flows.open_case(
                session,
                account.customer_id,
                kind=kind,
                reason="other",
                text=None,
                account_ref=account.external_ref,
                opened_by="debtor",
                channel="portal",
                clock=clock,
            )
            for kind in ("dispute", "hardship")
        }
        pauses = {
            p.kind: p
            for p in session.execute(
                select(DelinquencyPause).where(DelinquencyPause.account_id == account.id)
            ).scalars()
        }
        assert {k: (p.case_id, p.end_date) for k, p in pauses.items()} == {
            "dispute": (opened["dispute"].id, None),
            "hardship": (opened["hardship"].id, None),
        }
        pauses["dispute"].reason = "amount contested, statement requested"
        on(clock, DAY0 + 3 * ONE_DAY)
        flows.resolve_case(
            session, opened["dispute"].id, resolution="statement sent", by="staff:cho", clock=clock
        )
        assert pauses["dispute"].end_date == DAY0 + 2 * ONE_DAY  # the day it was resolved counts
        assert pauses["hardship"].end_date is None
        facts = strategy_service.facts(session, DAY0 + 3 * ONE_DAY, [account.id])
        assert (facts["dispute_open"][0], facts["hardship"][0]) == (False, True)

    def test_hardship_without_an_account_pauses_all_of_them(
        self, session: Session, clock: SettableClock
    ) -> None:
        account = late_account(session, clock)
        flows.open_case(
            session,
            account.customer_id,
            kind="hardship",
            reason="job_loss",
            text=None,
            account_ref=None,
            opened_by="debtor",
            channel="portal",
            clock=clock,
        )
        assert strategy_service.facts(session, DAY0, [account.id])["hardship"][0] is True

    def test_bad_reasons_long_texts_and_other_customers_accounts_are_refused(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_account(session, clock)
        other = late_account(session, clock)
        session.commit()
        url = f"/v1/customers/{account.customer_id}/cases"
        wrong = client.post(url, json={"kind": "dispute", "reason": "job_loss"})
        assert wrong.status_code == 422
        assert "not_mine" in wrong.json()["message"]
        long = client.post(url, json={"kind": "complaint", "reason": "rude", "text": "x" * 2_001})
        assert long.status_code == 422
        theirs = client.post(
            url, json={"kind": "dispute", "reason": "not_mine", "account_ref": other.external_ref}
        )
        assert theirs.status_code == 404
        made = client.post(
            url, json={"kind": "complaint", "reason": "wrong_time", "text": "太早了"}
        )
        assert made.status_code == 201, made.text
        assert "text" not in made.json()
        listed = client.get(url).json()
        assert [(c["kind"], c["status"]) for c in listed] == [("complaint", "open")]

    def test_staff_record_a_review_request_once_as_the_portal_does(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_account(session, clock)
        session.commit()
        url = f"/v1/customers/{account.customer_id}/cases"
        body = {"kind": "review", "reason": "automated_decision", "channel": "agent"}
        wrong = client.post(url, json={**body, "reason": "rude"})
        assert wrong.status_code == 422
        assert "automated_decision" in wrong.json()["message"]
        made = client.post(url, json={**body, "account_ref": account.external_ref})
        assert made.status_code == 201, made.text
        assert (made.json()["kind"], made.json()["status"]) == ("review", "open")
        again = client.post(url, json={**body, "account_ref": account.external_ref})
        assert again.json()["id"] == made.json()["id"]  # one open review, not two
