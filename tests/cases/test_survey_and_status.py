"""Being heard: the survey answered once per message, its bounds, its words sealed and its
results only ever aggregates; and a case's status for the debtor in words, from the case's state
and whether a person has taken it up."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import LargeBinary, select, type_coerce
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.cases import flows as case_flows
from recoup.cases import service as case_service
from recoup.cases.repository import CaseRepository
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from recoup.models import SurveyResponse
from tests.factories import create_account, create_customer


def answer(
    session: Session, clock: SettableClock, customer_id: int, **changes: object
) -> SurveyResponse:
    values: dict[str, object] = {
        "contact_id": 7,
        "treated": "4",
        "clear": "5",
        "again": "yes",
        "text": "清楚明白，谢谢",
    }
    return case_service.answer_survey(session, customer_id, clock=clock, **{**values, **changes})  # type: ignore[arg-type]


class TestSurvey:
    def test_answered_once_per_message_the_first_answer_stands(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock)
        first = answer(session, clock, customer.id)
        with pytest.raises(case_service.SurveyAnswered):
            answer(session, clock, customer.id, treated="1")
        assert first.treated == 4
        assert case_service.answered(session, customer.id, 7)
        assert not case_service.answered(session, customer.id, 8)  # another survey message
        answer(session, clock, customer.id, contact_id=8)

    def test_the_database_refuses_a_second_answer_even_past_the_service(
        self, session: Session, clock: SettableClock
    ) -> None:
        """The mechanism behind "once": the unique (customer, subject), not only the check."""
        from sqlalchemy.exc import IntegrityError

        customer = create_customer(session, clock)
        answer(session, clock, customer.id)

        def insert_a_second() -> None:
            with session.begin_nested():
                session.add(
                    SurveyResponse(
                        customer_id=customer.id,
                        subject="contact:7",
                        treated=1,
                        clear=1,
                        self_service_again=False,
                        created_at=clock.now(),
                    )
                )
                session.flush()

        with pytest.raises(IntegrityError):
            insert_a_second()

    @pytest.mark.parametrize(
        "changes",
        [
            {"treated": "0"},
            {"treated": "6"},
            {"clear": "x"},
            {"clear": "-1"},
            {"clear": "３"},  # a full-width digit is not a score
            {"again": "maybe"},
            {"text": "字" * 1_001},
        ],
    )
    def test_out_of_bounds_answers_are_refused(
        self, session: Session, clock: SettableClock, changes: dict[str, str]
    ) -> None:
        customer = create_customer(session, clock)
        with pytest.raises(ValidationFailed):
            answer(session, clock, customer.id, **changes)
        assert not case_service.answered(session, customer.id, 7)

    def test_the_words_are_sealed_at_rest(self, session: Session, clock: SettableClock) -> None:
        customer = create_customer(session, clock)
        row = answer(session, clock, customer.id, text="客服态度很好")
        column = type_coerce(SurveyResponse.__table__.c.text, LargeBinary)  # past decryption
        raw = session.execute(select(column).where(SurveyResponse.id == row.id)).scalar_one()
        assert isinstance(raw, bytes)
        assert "客服态度很好".encode() not in raw
        assert row.text == "客服态度很好"

    def test_results_are_counts_and_distributions(
        self, session: Session, clock: SettableClock
    ) -> None:
        before = case_service.survey_results(session)
        for n, (treated, again) in enumerate([("5", "yes"), ("3", "no"), ("5", "yes")]):
            customer = create_customer(session, clock, name=f"客户{n}")
            answer(session, clock, customer.id, treated=treated, again=again)
        after = case_service.survey_results(session)
        assert after.n - before.n == 3
        assert after.treated[5] - before.treated[5] == 2
        assert after.treated[3] - before.treated[3] == 1
        assert after.self_service_again["no"] - before.self_service_again["no"] == 1
        assert set(after.treated) == {1, 2, 3, 4, 5}


class TestCaseStatusForTheDebtor:
    def test_received_then_being_looked_at_then_answered_with_the_answer(
        self, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock)
        create_account(session, clock, customer=customer)
        case = case_flows.open_case(
            session,
            customer.id,
            kind="complaint",
            reason="rude",
            text="催收员态度很差",
            account_ref=None,
            opened_by="debtor",
            channel="portal",
            clock=clock,
        )

        def status() -> case_service.DebtorCase:
            (only,) = case_service.debtor_cases(session, customer.id, clock=clock)
            return only

        assert status().status == "received"
        assert status().answer is None
        (task_id,) = CaseRepository(session).open_tasks(case.id)
        agents_service.reassign(session, task_id, 1, clock.now(), actor="supervisor:9")
        assert status().status == "being_looked_at"
        assert status().looked_at == clock.now()
        clock.advance(dt.timedelta(hours=1))
        taken = agents_service.take_next(
            session, 1, clock.now().date(), clock.now(), actor="agent:1"
        )
        assert taken.task is not None
        assert taken.task.subject_id == case.id
        assert status().looked_at == clock.now() - dt.timedelta(hours=1)  # the first moment
        case_flows.resolve_case(
            session, case.id, resolution="我们已核实并向您致歉。", by="agent:1", clock=clock
        )
        assert status().status == "answered"
        assert status().answer == "我们已核实并向您致歉。"

    def test_a_customer_sees_only_their_own_cases(
        self, session: Session, clock: SettableClock
    ) -> None:
        mine, theirs = create_customer(session, clock), create_customer(session, clock, name="张伟")
        for who in (mine, theirs):
            create_account(session, clock, customer=who)
            case_flows.open_case(
                session,
                who.id,
                kind="dispute",
                reason="wrong_amount",
                text=None,
                account_ref=None,
                opened_by="debtor",
                channel="portal",
                clock=clock,
            )
        seen = case_service.debtor_cases(session, mine.id, clock=clock)
        assert [c.case.customer_id for c in seen] == [mine.id]
