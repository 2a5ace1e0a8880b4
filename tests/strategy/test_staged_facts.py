"""The daily run reads the facts only a stage uses (payments, contact history, reachability,
zones) for the accounts some stage's ranges can hold, when those are the few: the decisions and
the contact plans are the ones reading every account's facts gives. The narrowed reads go
through the inline id list (`kit.db.IdsIn`) and the first decision (the stage whose contacts are
counted) is made for the narrowed accounts alone; a day's run before gives them contacts in their
stage. Checked: an id literal that loses an id, or the narrowed run deciding the first stage of
only half of its accounts, fails the comparison."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy.orm import Session

from recoup.delinquency import service as delinquency_service
from recoup.ingest.columns import ORDER
from recoup.ingest.importer import Importer
from recoup.kit import db as kit_db
from recoup.kit.clock import SettableClock
from recoup.simulation.generator import Generator
from recoup.strategy import repository as strategy_repo
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import Policy, load_policy

AS_OF = dt.date(2026, 6, 1)
POLICY = Path(__file__).resolve().parents[2] / "src/recoup/strategy/policies/cn-wallet.yaml"


KNOWN = ["dpd", "days_to_due", "outstanding_minor", "resolved_days"]


def test_the_stages_select_the_accounts_some_stage_can_hold() -> None:
    policy = load_policy(POLICY)
    frame = pl.DataFrame(
        {
            "dpd": [0, 0, 0, 5, 400, None, 0],
            "days_to_due": [2, 9, None, -5, -400, 1, None],
            "outstanding_minor": [100, 100, 100, 100, 100, 100, 0],
            "resolved_days": [None, None, None, None, None, None, 4],
        },
        schema=dict.fromkeys(KNOWN, pl.Int64),
    )
    condition = policy.in_some_stage(KNOWN)
    assert condition is not None
    # pre_due: 0-3 days before a due date at 0 DPD; early to written-off by DPD; resolved: paid
    # off in the last ten days.
    held = frame.select(condition).to_series().to_list()
    assert held == [True, False, False, True, True, False, True]
    # A stage whose condition reads a fact not known yet keeps only its ranges: the resolved
    # stage has none, so nothing can be ruled out.
    assert policy.in_some_stage(["dpd", "days_to_due"]) is None


def test_the_daily_run_decides_as_if_it_read_every_accounts_facts(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SettableClock(dt.datetime.combine(AS_OF, dt.time(1), tzinfo=dt.UTC))
    portfolio = Generator(seed=5, as_of=AS_OF).portfolio(accounts=600)
    for kind in ORDER:
        assert (
            not Importer(session, clock=clock).import_rows(kind, kind, portfolio.frame(kind)).errors
        )
    # A day's run before: contacts planned yesterday, so today's contacts in the stage count.
    yesterday = AS_OF - dt.timedelta(days=1)
    earlier = SettableClock(dt.datetime.combine(yesterday, dt.time(1), tzinfo=dt.UTC))
    version = strategy_service.save_policy(
        session, POLICY.read_text(encoding="utf-8"), author="t", clock=earlier, source=str(POLICY)
    )
    strategy_service.activate(session, version.id, actor="t", clock=earlier)
    delinquency_service.run_daily(session, yesterday, clock=earlier)
    strategy_service.run(session, yesterday, clock=earlier)
    assert strategy_repo.contact_history(session, AS_OF).height > 0
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    policy = load_policy(POLICY)

    asked: list[object] = []
    payment_facts = strategy_repo.payment_facts

    def spy(session: Session, as_of: dt.date, accounts: object = None) -> pl.DataFrame:
        asked.append(accounts)
        return payment_facts(session, as_of, accounts)  # type: ignore[arg-type]

    monkeypatch.setattr(strategy_repo, "payment_facts", spy)
    # The narrowed reads name their accounts and customers inline (`kit.db.IdsIn`) as the
    # daily run's hundreds of thousands do, not as a bound list.
    monkeypatch.setattr(kit_db, "INLINE_IDS_FROM", 1)
    decisions, contacts = strategy_service.plan(session, AS_OF, policy, now=clock.now())
    staged = decisions.filter(pl.col("stage").is_not_null()).height
    assert 0 < staged * 2 < decisions.height  # mostly current
    assert isinstance(asked[0], list)
    assert 0 < len(asked[0]) < decisions.height  # the narrow read was taken
    assert contacts.height > 0

    monkeypatch.setattr(Policy, "in_some_stage", lambda self, available: None)
    every_decision, every_contact = strategy_service.plan(session, AS_OF, policy, now=clock.now())
    key = ["account_id"]
    recorded = pl.col("stage").is_not_null()
    assert decisions.filter(recorded).sort(key).equals(every_decision.filter(recorded).sort(key))
    assert contacts.sort(key).equals(every_contact.sort(key))
    assert decisions.height == every_decision.height
