"""`recoup audit contacts`: a day planned and sent by the real engine audits clean; breaches planted
in the sent record are each reported with their rule, citation and contact; the command's exit
status and JSON say the same."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from recoup.audit import contact_rules
from recoup.audit import contacts as contact_audit
from recoup.cli import audit as audit_cli
from recoup.cli.main import app
from recoup.compliance.packs import load_guard
from recoup.kit.clock import SettableClock
from recoup.models import (
    Account,
    ContactEvent,
    ContactPlan,
    DelinquencyPause,
    OptOut,
    PauseKind,
)
from tests.contact.test_dispatch import AS_OF, dispatcher, drain, plan_day, spool
from tests.factories import add_bill, create_account, create_customer, shanghai

runner = CliRunner()
LATER = AS_OF + dt.timedelta(days=3)  # a Tuesday (AS_OF is a Saturday)


def portfolio(session: Session, clock: SettableClock) -> list[Account]:
    """Accounts at several stages, so the day plans pushes, texts and calls."""
    clock.set(shanghai(AS_OF, 7))
    accounts = []
    for days, amount in ((-2, 30_000), (3, 40_000), (10, 50_000), (45, 400_000), (75, 90_000)):
        customer = create_customer(session, clock, name="王芳")
        account = create_account(session, clock, customer=customer)
        add_bill(session, clock, account, AS_OF - dt.timedelta(days=days), amount)
        accounts.append(account)
    return accounts


def sent_day(
    session: Session, sessions: sessionmaker[Session], clock: SettableClock, tmp_path: Path
) -> list[Account]:
    """A day planned by the daily run and sent by the dispatcher, hour by hour."""
    accounts = portfolio(session, clock)
    plan_day(session, clock)
    adapters = spool(tmp_path)
    for hour in range(8, 22):
        clock.set(shanghai(AS_OF, hour) + dt.timedelta(minutes=1))
        drain(dispatcher(sessions, clock, adapters))
    session.expire_all()
    return accounts


def plant(
    session: Session,
    account: Account,
    at: dt.datetime,
    *,
    channel: str = "sms",
    treatment: str = "planted",
    purpose: str = "collection",
    status: str = "sent",
) -> ContactPlan:
    """A contact written straight into the sent record, as a broken dispatcher would leave it."""
    contact = ContactPlan(
        account_id=account.id,
        customer_id=account.customer_id,
        as_of_date=at.date(),
        stage="planted",
        treatment=treatment,
        channel=channel,
        template="reminder",
        tone="neutral",
        status=status,
        scheduled_at=at,
        reasons=[],
        purpose=purpose,
        sent_at=at,
        provider="planted",
        created_at=at,
    )
    session.add(contact)
    session.flush()
    session.add(
        ContactEvent(contact_id=contact.id, status=status, at=at, actor="planted", detail={})
    )
    session.flush()
    return contact


def fresh_account(session: Session, clock: SettableClock) -> Account:
    customer = create_customer(session, clock, name="张伟")
    return create_account(session, clock, customer=customer)


def found(session: Session, **period: Any) -> dict[tuple[int, str], Any]:
    audit = contact_audit.audit_contacts(session, **period)
    return {(b.contact_id, b.rule): b for b in audit.breaches}


class TestWhatTheEngineSent:
    def test_a_day_sent_through_the_daily_run_and_dispatcher_has_no_breach(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        sent_day(session, sessions, clock, tmp_path)
        audit = contact_audit.audit_contacts(session, start=AS_OF, end=AS_OF)
        left = session.execute(
            select(ContactPlan.channel).where(ContactPlan.status.in_(("sent", "delivered")))
        ).scalars()
        assert {"push", "sms", "call"} <= set(left)
        assert audit.contacts >= 3
        assert audit.breaches == []


class TestPlantedBreaches:
    def test_each_planted_breach_is_reported_with_its_rule_citation_and_contact(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        tmp_path: Path,
    ) -> None:
        sent_day(session, sessions, clock, tmp_path)
        clock.set(shanghai(LATER, 7))

        late = plant(
            session, fresh_account(session, clock), shanghai(LATER, 23) + dt.timedelta(minutes=30)
        )

        opted = fresh_account(session, clock)
        session.add(
            OptOut(
                customer_id=opted.customer_id,
                channel="sms",
                source="sms_reply",
                evidence="TD",
                created_at=shanghai(LATER, 9),
            )
        )
        before_stop = plant(session, opted, shanghai(LATER, 8), treatment="before")
        after_stop = plant(session, opted, shanghai(LATER, 10), treatment="after")
        confirmation = plant(
            session, opted, shanghai(LATER, 9), treatment="confirm", purpose="service"
        )

        disputed = fresh_account(session, clock)
        before_dispute = plant(session, disputed, shanghai(LATER, 9), treatment="before")
        session.add(
            DelinquencyPause(
                account_id=disputed.id,
                start_date=LATER,
                end_date=None,
                kind=PauseKind.dispute,
                reason="dispute case 7",
                created_by="portal",
                created_at=shanghai(LATER, 11),
            )
        )
        during_dispute = plant(session, disputed, shanghai(LATER, 14), treatment="during")

        called = fresh_account(session, clock)
        calls = [
            plant(session, called, shanghai(LATER, h), channel="dial", treatment=f"call-{h}")
            for h in (9, 11, 13, 15)
        ]
        session.flush()

        breaches = found(session, start=LATER, end=LATER)

        assert set(breaches) == {
            (late.id, "cn.hours.legal"),
            (late.id, "cn.hours.house"),
            (late.id, "house.hours"),
            (after_stop.id, "base.opt_out"),
            (during_dispute.id, "base.dispute"),
            (calls[3].id, "cn.effective_calls"),
        }
        hours = breaches[(late.id, "cn.hours.legal")]
        assert hours.code == "OUTSIDE_HOURS"
        assert "GB/T 45251" in hours.citation
        assert "23:30 in Asia/Shanghai" in hours.message
        assert "08:00–22:00" in hours.message
        stop = breaches[(after_stop.id, "base.opt_out")]
        assert (stop.code, stop.channel) == ("OPTED_OUT", "sms")
        assert "1006.14(h)" in stop.citation
        dispute = breaches[(during_dispute.id, "base.dispute")]
        assert dispute.code == "DISPUTE_PENDING"
        assert "1006.38(d)(2)" in dispute.citation
        assert "dispute case 7" in dispute.message
        cap = breaches[(calls[3].id, "cn.effective_calls")]
        assert cap.code == "FREQUENCY_CAP"
        assert "GB/T 45251" in cap.citation
        assert "3 counted contacts" in cap.message
        assert ", ".join(str(c.id) for c in calls[:3]) in cap.message
        assert before_stop.id not in {c for c, _ in breaches}
        assert before_dispute.id not in {c for c, _ in breaches}
        assert confirmation.id not in {c for c, _ in breaches}  # a service message

    def test_a_hardship_pause_and_a_cease_stop_collection(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(LATER, 7))
        hardship, cease = fresh_account(session, clock), fresh_account(session, clock)
        for account, kind, reason in (
            (hardship, PauseKind.hardship, "job loss"),
            (cease, PauseKind.cease, "written request"),
        ):
            session.add(
                DelinquencyPause(
                    account_id=account.id,
                    start_date=LATER,
                    end_date=None,
                    kind=kind,
                    reason=reason,
                    created_by="agent:2",
                    created_at=shanghai(LATER, 8),
                )
            )
        a = plant(session, hardship, shanghai(LATER, 10))
        b = plant(session, cease, shanghai(LATER, 10))
        breaches = found(session, start=LATER, end=LATER)
        assert breaches[(a.id, "base.account_status")].code == "ACCOUNT_STATUS"
        assert breaches[(b.id, "base.cease")].code == "CEASE"

    def test_a_pause_is_read_by_its_kind_not_its_reason(
        self, session: Session, clock: SettableClock
    ) -> None:
        """A pause of kind other whose reason mentions a dispute is no dispute (the old search of
        the reason called it one), and the kinds the audit reads are pause kinds."""
        assert set(contact_rules.PAUSE_FLAGS) < set(PauseKind)
        clock.set(shanghai(LATER, 7))
        account = fresh_account(session, clock)
        session.add(
            DelinquencyPause(
                account_id=account.id,
                start_date=LATER,
                end_date=None,
                kind=PauseKind.other,
                reason="relief week, no dispute here",
                created_by="agent:2",
                created_at=shanghai(LATER, 8),
            )
        )
        contact = plant(session, account, shanghai(LATER, 10))
        assert [rule for c, rule in found(session, start=LATER, end=LATER) if c == contact.id] == []

    def test_an_ended_pause_and_a_withdrawn_opt_out_no_longer_hold(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(LATER, 7))
        account = fresh_account(session, clock)
        session.add(
            DelinquencyPause(
                account_id=account.id,
                start_date=LATER - dt.timedelta(days=5),
                end_date=LATER - dt.timedelta(days=1),
                kind=PauseKind.dispute,
                reason="dispute case 9",
                created_by="portal",
                created_at=shanghai(LATER - dt.timedelta(days=5), 9),
            )
        )
        session.add(
            OptOut(
                customer_id=account.customer_id,
                channel="sms",
                source="portal",
                evidence="tests",
                created_at=shanghai(LATER - dt.timedelta(days=5), 9),
                withdrawn_at=shanghai(LATER, 8),
            )
        )
        plant(session, account, shanghai(LATER, 10))
        assert found(session, start=LATER, end=LATER) == {}

    def test_the_period_bounds_what_is_reported_but_not_what_caps_count(
        self, session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(LATER, 7))
        called = fresh_account(session, clock)
        calls = [
            plant(session, called, shanghai(LATER, h), channel="dial", treatment=f"c{h}")
            for h in (9, 11, 13, 15)
        ]
        # Only the last call is in a period that starts with it; the three before still count.
        assert set(found(session, start=LATER, end=LATER)) == {(calls[3].id, "cn.effective_calls")}
        assert found(session, start=LATER + dt.timedelta(days=1)) == {}


@contextmanager
def _transaction(session: Session) -> Iterator[Session]:
    yield session


class TestTheCommand:
    @pytest.fixture
    def cli_session(self, session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
        stub = SimpleNamespace(transaction=lambda: _transaction(session))
        monkeypatch.setattr(audit_cli, "runtime", lambda **_: stub)
        return session

    def test_clean_record_exits_zero(self, cli_session: Session, clock: SettableClock) -> None:
        clock.set(shanghai(LATER, 7))
        plant(cli_session, fresh_account(cli_session, clock), shanghai(LATER, 10))
        result = runner.invoke(
            app, ["audit", "contacts", "--from", LATER.isoformat(), "--to", LATER.isoformat()]
        )
        assert result.exit_code == 0, result.output
        assert "no breach" in result.output

    def test_a_breach_exits_one_and_the_json_lists_it(
        self, cli_session: Session, clock: SettableClock
    ) -> None:
        clock.set(shanghai(LATER, 7))
        late = plant(
            cli_session,
            fresh_account(cli_session, clock),
            shanghai(LATER, 23) + dt.timedelta(minutes=30),
        )
        result = runner.invoke(
            app,
            ["audit", "contacts", "--from", LATER.isoformat(), "--to", LATER.isoformat(), "--json"],
        )
        assert result.exit_code == 1
        document = json.loads(result.stdout)
        assert document["from"] == document["to"] == LATER.isoformat()
        assert document["contacts"] == 1
        assert {(b["contact_id"], b["rule"], b["code"]) for b in document["breaches"]} == {
            (late.id, "cn.hours.legal", "OUTSIDE_HOURS"),
            (late.id, "cn.hours.house", "OUTSIDE_HOURS"),
            (late.id, "house.hours", "OUTSIDE_HOURS"),
        }
        assert all(b["citation"] for b in document["breaches"])

    def test_the_table_names_the_breach(self, cli_session: Session, clock: SettableClock) -> None:
        clock.set(shanghai(LATER, 7))
        late = plant(
            cli_session,
            fresh_account(cli_session, clock),
            shanghai(LATER, 23) + dt.timedelta(minutes=30),
        )
        result = runner.invoke(
            app, ["audit", "contacts", "--from", LATER.isoformat()], env={"COLUMNS": "200"}
        )
        assert result.exit_code == 1
        assert "OUTSIDE_HOURS" in result.output
        assert str(late.id) in result.output

    def test_a_bad_date_is_a_clear_error(self, cli_session: Session) -> None:
        result = runner.invoke(app, ["audit", "contacts", "--from", "yesterday"])
        assert result.exit_code == 1
        assert "YYYY-MM-DD" in result.output


# -- the pure part, on frames ---------------------------------------------------------------------


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {
        "customer_id": 1,
        "account_id": 1,
        "channel": "sms",
        "purpose": "collection",
        "status": "sent",
        "address_index": None,
        "collector": "creditor",
        "product": "bnpl",
        "business_zone": "Asia/Shanghai",
        "jurisdiction": "CN",
        "timezones": [],
        "call_result": None,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=contact_rules.SENT)


def pure(sent: pl.DataFrame) -> set[tuple[int, str, str]]:
    out = contact_rules.breaches(
        sent,
        pl.DataFrame(schema=contact_rules.OPT_OUTS),
        pl.DataFrame(schema=contact_rules.PAUSES),
        load_guard(),
    )
    return {(r["contact_id"], r["rule"], r["code"]) for r in out.iter_rows(named=True)}


def local(zone: str, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone)
    ).astimezone(dt.UTC)


@pytest.mark.pure
class TestTheRulesOnFrames:
    def test_indonesia_rests_on_sunday_and_national_holidays(self) -> None:
        sunday, holiday = dt.date(2026, 6, 21), dt.date(2026, 8, 17)  # Independence Day
        monday = dt.date(2026, 6, 22)
        sent = frame(
            *(
                {
                    "contact_id": i,
                    "customer_id": i,
                    "jurisdiction": "ID",
                    "sent_at": local("Asia/Jakarta", d, 10),
                }
                for i, d in ((1, sunday), (2, holiday), (3, monday))
            )
        )
        assert pure(sent) == {(1, "id.hours", "REST_DAY"), (2, "id.hours", "REST_DAY")}

    def test_every_candidate_zone_must_be_inside_the_window(self) -> None:
        """Reg F comment 6(b)(1)(i)-2: 08:30 in New York is 05:30 in Los Angeles."""
        day = dt.date(2026, 6, 23)
        sent = frame(
            {
                "contact_id": 1,
                "jurisdiction": "US",
                "timezones": ["America/New_York", "America/Los_Angeles"],
                "sent_at": local("America/New_York", day, 8, 30),
            },
            {
                "contact_id": 2,
                "customer_id": 2,
                "jurisdiction": "US",
                "timezones": ["America/New_York"],
                "sent_at": local("America/New_York", day, 8, 30),
            },
        )
        assert {(c, r) for c, r, _ in pure(sent)} == {(1, "us.hours"), (1, "house.hours")}

    def test_two_contacts_sent_in_one_batch_are_ordered_for_a_daily_cap(self) -> None:
        """Thailand: at most one contact a day; two accounts of one debtor sent at one instant."""
        at = local("Asia/Bangkok", dt.date(2026, 6, 23), 10)
        sent = frame(
            {"contact_id": 1, "account_id": 1, "jurisdiction": "TH", "sent_at": at},
            {"contact_id": 2, "account_id": 2, "jurisdiction": "TH", "sent_at": at},
        )
        assert pure(sent) == {(2, "th.daily", "FREQUENCY_CAP")}

    def test_a_daily_cap_starts_again_the_next_local_day(self) -> None:
        day = dt.date(2026, 6, 23)
        sent = frame(
            {"contact_id": 1, "jurisdiction": "TH", "sent_at": local("Asia/Bangkok", day, 19)},
            {
                "contact_id": 2,
                "jurisdiction": "TH",
                "sent_at": local("Asia/Bangkok", day + dt.timedelta(days=1), 9),
            },
        )
        assert pure(sent) == set()

    @pytest.mark.parametrize(
        ("earlier", "breach"), [("conversation", True), (None, True), ("no_answer", False)]
    )
    def test_calls_count_for_a_cap_on_conversations_by_their_recorded_result(
        self, earlier: str | None, breach: bool
    ) -> None:
        """China: at most three effective calls a day. Three earlier calls that were conversations,
        or that nobody reported on, make the fourth a breach; three unanswered ones do not."""
        day = dt.date(2026, 6, 23)
        sent = frame(
            *(
                {
                    "contact_id": i,
                    "channel": "dial",
                    "sent_at": local("Asia/Shanghai", day, 9 + 2 * i),
                    "call_result": earlier if i < 3 else "conversation",
                }
                for i in range(4)
            )
        )
        assert pure(sent) == ({(3, "cn.effective_calls", "FREQUENCY_CAP")} if breach else set())

    def test_service_messages_are_not_audited(self) -> None:
        sent = frame(
            {
                "contact_id": 1,
                "purpose": "service",
                "sent_at": local("Asia/Shanghai", dt.date(2026, 6, 23), 23, 30),
            }
        )
        assert pure(sent) == set()

    def test_stop_calling_covers_an_agents_dialled_call(self) -> None:
        """12 CFR 1006.14(h): "stop calling" bars every call, the click-to-call bridge included."""
        day = dt.date(2026, 6, 23)
        sent = frame(
            {"contact_id": 1, "channel": "dial", "sent_at": local("Asia/Shanghai", day, 10)},
            {"contact_id": 2, "channel": "sms", "sent_at": local("Asia/Shanghai", day, 11)},
        )
        stops = pl.DataFrame(
            [
                {
                    "customer_id": 1,
                    "channel": "call",
                    "address_index": None,
                    "source": "portal",
                    "created_at": local("Asia/Shanghai", day, 9),
                    "withdrawn_at": None,
                }
            ],
            schema=contact_rules.OPT_OUTS,
        )
        out = contact_rules.breaches(
            sent, stops, pl.DataFrame(schema=contact_rules.PAUSES), load_guard()
        )
        assert out.select("contact_id", "rule", "code").rows() == [(1, "base.opt_out", "OPTED_OUT")]
