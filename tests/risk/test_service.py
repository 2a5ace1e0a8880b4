"""Training from Recoup's own history, the registry, the daily score and its drift, and the
daily run scoring before the strategy decides."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.daily import flows as daily_flows
from recoup.kit.clock import SettableClock
from recoup.models import (
    Account,
    AccountScore,
    Arrangement,
    AuditEvent,
    ContactEvent,
    ContactPlan,
    Customer,
    DelinquencyPause,
    InboundMessage,
    PaymentIntent,
    RiskDrift,
    StrategyDecision,
)
from recoup.risk import features, tabular
from recoup.risk import service as risk_service
from recoup.strategy import service as strategy_service
from tests.factories import add_bill, create_account, shanghai
from tests.risk import portfolio
from tests.strategy.test_daily_run import POLICY, policy_text

AS_OF = portfolio.AS_OF
FAST = {"num_rounds": 15, "num_leaves": 7}  # a small model: the tests check wiring, not accuracy


def clock_at(day: dt.date) -> SettableClock:
    return SettableClock(shanghai(day, 6))


def train(session: Session, kind: str, *, snapshots: int = 8) -> int:
    row = risk_service.train_from_history(
        session,
        as_of=AS_OF,
        kind=kind,
        actor="lin",
        clock=clock_at(AS_OF),
        horizon_days=30,
        snapshots=snapshots,
        folds=2,
        params=FAST,
    )
    return row.id


class TestLabels:
    def test_the_payers_outcomes_are_the_labels(
        self, history_session: Session, payers: dict[int, str]
    ) -> None:
        frame = risk_service.training_frame(
            history_session, as_of=AS_OF, kind="p_pay", horizon_days=30, snapshots=8
        ).with_columns(payer=pl.col("account_id").replace_strict(payers))
        by = dict(
            frame.group_by("payer").agg(pl.col("label").mean()).iter_rows()  # type: ignore[arg-type]
        )
        # on-time payers are never overdue at a snapshot: not in p_pay's population
        assert "on_time" not in by
        assert by["late"] == 1.0  # paid within 3-12 days, always inside 30
        assert by["stops"] == 0.0
        # every snapshot's horizon ends by AS_OF: nothing after it was read
        assert frame["as_of_date"].max() == AS_OF - dt.timedelta(days=30)

    def test_p_roll_labels_the_accounts_whose_bucket_rose(
        self, history_session: Session, payers: dict[int, str]
    ) -> None:
        frame = risk_service.training_frame(
            history_session, as_of=AS_OF, kind="p_roll", horizon_days=30, snapshots=8
        ).with_columns(payer=pl.col("account_id").replace_strict(payers))
        by = dict(frame.group_by("payer").agg(pl.col("label").max()).iter_rows())  # type: ignore[arg-type]
        assert by["on_time"] == 0
        assert by["stops"] == 1
        assert by["very_late"] == 1


class TestRegistry:
    def test_a_model_trained_from_history_is_registered_with_its_window_and_metrics(
        self, history_session: Session
    ) -> None:
        model_id = train(history_session, "p_pay")
        row = risk_service.get_model(history_session, model_id)
        assert (row.kind, row.version, row.status) == ("p_pay", 1, "trained")
        assert row.window_to == AS_OF - dt.timedelta(days=30)
        assert row.window_from == row.window_to - dt.timedelta(days=7 * 7)
        assert row.features == list(features.FEATURES)
        assert 0.5 <= row.metrics["cv_auc"] <= 1.0
        assert row.calibration["x"]
        assert row.horizon_days == 30
        assert risk_service.engine_model(row).target == "label"

    def test_activation_is_audited_and_retires_the_previous_model_of_its_kind(
        self, history_session: Session
    ) -> None:
        s, clock = history_session, clock_at(AS_OF)
        first, second = train(s, "p_pay"), train(s, "p_pay")
        roll = train(s, "p_roll")
        for model_id in (first, roll, second):
            risk_service.activate(s, model_id, actor="wei", clock=clock)
        status = {m.id: (m.version, m.status) for m in risk_service.list_models(s)}
        assert status[first] == (1, "retired")
        assert status[second] == (2, "active")
        assert status[roll] == (1, "active")  # another kind's active model is untouched
        activations = s.execute(
            select(AuditEvent.subject_id, AuditEvent.actor).where(
                AuditEvent.action == "risk_model.activated"
            )
        ).all()
        assert [(int(i), a) for i, a in activations] == [
            (first, "wei"),
            (roll, "wei"),
            (second, "wei"),
        ]

    def test_an_unknown_kind_is_refused_before_reading_anything(
        self, history_session: Session
    ) -> None:
        with pytest.raises(risk_service.BadTrainingRequest, match="kind"):
            risk_service.training_frame(
                history_session, as_of=AS_OF, kind="p_win", horizon_days=30, snapshots=4
            )


def _activity(s: Session, account: Account) -> None:
    """What the portfolio lacks, a few days before AS_OF: a message delivered, a call answered, a
    reply from the customer, a broken promise, a hardship pause, a pay link opened."""
    at = shanghai(AS_OF - dt.timedelta(days=3), 10)
    common = {"account_id": account.id, "customer_id": account.customer_id}
    for channel, result in (("sms", None), ("call", "connected")):
        plan = ContactPlan(
            **common, as_of_date=at.date(), stage="early", treatment=f"t-{channel}", channel=channel,
            template="x", tone="gentle", status="sent", created_at=at, sent_at=at, result=result,
        )  # fmt: skip
        s.add(plan)
        s.flush()
        s.add(ContactEvent(contact_id=plan.id, status="delivered", at=at, actor="test"))
    s.add(
        InboundMessage(
            customer_id=account.customer_id, channel="sms", provider="test",
            provider_id=f"in-{account.id}-{account.customer_id}", from_index="x", body="x", intent="other",
            received_at=at,
        )
    )  # fmt: skip
    s.add(
        Arrangement(
            **common, kind="promise", status="broken", currency="CNY", amount_minor=5_000,
            balance_minor=5_000, start_date=AS_OF - dt.timedelta(days=20),
            due_date=AS_OF - dt.timedelta(days=10), ended_on=AS_OF - dt.timedelta(days=9),
            made_by="test", channel="portal", created_at=at,
        )
    )  # fmt: skip
    s.add(
        DelinquencyPause(
            account_id=account.id, kind="hardship", start_date=AS_OF - dt.timedelta(days=2),
            reason="test", created_by="test", created_at=at,
        )
    )  # fmt: skip
    s.add(
        PaymentIntent(**common, amount_minor=5_000, currency="CNY", status="created", created_at=at)
    )
    s.flush()


def _not_yet_due(s: Session) -> list[Account]:
    """Two accounts owing only a bill due after AS_OF (in p_roll's population, not p_pay's): what
    the portfolio lacks."""
    clock = clock_at(AS_OF)
    out = []
    for amount in (8_000, 12_000):
        account = create_account(s, clock, opened=dt.date(2026, 1, 1))
        add_bill(s, clock, account, AS_OF + dt.timedelta(days=12), amount)
        out.append(account)
    return out


class TestScoreDay:
    def test_every_open_account_owing_is_scored_with_drift(self, history_session: Session) -> None:
        s, clock = history_session, clock_at(AS_OF)
        for kind in ("p_pay", "p_roll"):
            risk_service.activate(s, train(s, kind), actor="wei", clock=clock)
        result = risk_service.score_day(s, AS_OF, clock=clock)
        owing = features.compute(risk_service.repo.history(s, since=AS_OF, until=AS_OF), [AS_OF])
        overdue = set(owing.filter(pl.col("overdue_minor") > 0)["account_id"])
        outstanding = set(owing.filter(pl.col("outstanding_minor") > 0)["account_id"])
        rows = (
            s.execute(select(AccountScore).where(AccountScore.as_of_date == AS_OF)).scalars().all()
        )
        scored = {k: {r.account_id for r in rows if r.kind == k} for k in ("p_pay", "p_roll")}
        assert overdue
        assert scored["p_pay"] == overdue
        assert scored["p_roll"] == outstanding
        assert result.scored == {"p_pay": len(overdue), "p_roll": len(outstanding)}
        for r in rows:
            assert 0.0 <= r.score <= 1.0
            assert r.reasons is None  # computed when asked for (`explain`)
        drift = s.execute(select(RiskDrift).where(RiskDrift.as_of_date == AS_OF)).scalars().all()
        assert {d.model_id for d in drift} == set(result.models.values())
        assert "score" in {d.feature for d in drift}
        assert {d.level for d in drift} <= {"ok", "watch", "alert"}

    @pytest.mark.parametrize("owing", ["anything", "overdue"])
    def test_reading_only_the_accounts_owing_changes_no_populations_features(
        self, history_session: Session, owing: str
    ) -> None:
        # The daily score reads only accounts with a bill not paid off by the day ("anything",
        # p_roll's population) or with such a bill due by the day ("overdue", p_pay's): exact
        # only if every account in the population has one. A filter that leaves out accounts of
        # the population (tried: only the unpaid bills not yet due, `due_date > until`, and for
        # "overdue" the bills due before the day, `due_date < until`) fails here.
        def populations(owing: str | None) -> dict[str, pl.DataFrame]:
            h = risk_service.repo.history(history_session, since=AS_OF, until=AS_OF, owing=owing)
            computed = features.compute(h, [AS_OF])
            return {k: computed.filter(features.population(k)) for k in features.KINDS}

        kinds = features.KINDS if owing == "anything" else ("p_pay",)
        _not_yet_due(history_session)
        everyone, kept = populations(None), populations(owing)
        for kind in kinds:
            assert everyone[kind].height > 0
            assert kept[kind].equals(everyone[kind])

    def test_with_p_pay_alone_the_day_reads_only_the_accounts_overdue(
        self, history_session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # p_pay scores only the accounts with money overdue, so the day's read keeps only those;
        # with p_roll active too, every account owing. Reading every account owing whatever is
        # active (`_read_for` returning "anything") fails the first half; reading only the
        # overdue with p_roll active (a wrong choice) fails the second, and the scores' test.
        s, clock = history_session, clock_at(AS_OF)
        _not_yet_due(s)
        everyone = features.compute(risk_service.repo.history(s, since=AS_OF, until=AS_OF), [AS_OF])
        overdue = set(everyone.filter(pl.col("overdue_minor") > 0)["account_id"])
        owing = set(everyone.filter(pl.col("outstanding_minor") > 0)["account_id"])
        assert overdue < owing  # some accounts owe only bills not yet due
        read: list[features.History] = []
        real = risk_service.repo.history

        def spy(*args: object, **kwargs: object) -> features.History:
            out = real(*args, **kwargs)  # type: ignore[arg-type]
            read.append(out)
            return out

        monkeypatch.setattr(risk_service.repo, "history", spy)
        risk_service.activate(s, train(s, "p_pay"), actor="wei", clock=clock)
        risk_service.score_day(s, AS_OF, clock=clock)
        assert set(read[-1].accounts["account_id"]) == overdue
        risk_service.activate(s, train(s, "p_roll"), actor="wei", clock=clock)
        risk_service.score_day(s, AS_OF, clock=clock)
        assert set(read[-1].accounts["account_id"]) == owing

    @pytest.mark.parametrize("kinds", [("p_pay",), ("p_roll",), ("p_pay", "p_roll")])
    def test_the_days_scores_are_the_scores_of_everyones_features(
        self, history_session: Session, kinds: tuple[str, ...]
    ) -> None:
        # Whatever the day's read leaves out, each score is the active model's prediction on the
        # account's features from a read of every account (the step before its read was cut to
        # the active kinds' populations). Keeping too few accounts, or a frame cut wrongly, fails
        # here (tried: the "overdue" read with p_roll active: accounts owing only bills not yet
        # due went unscored).
        s, clock = history_session, clock_at(AS_OF)
        for kind in kinds:
            risk_service.activate(s, train(s, kind), actor="wei", clock=clock)
        for account in [
            *s.execute(select(Account).order_by(Account.id).limit(5)).scalars(),
            *_not_yet_due(s),
        ]:
            _activity(s, account)  # every other frame the history reads
        risk_service.score_day(s, AS_OF, clock=clock)
        everyone = features.compute(risk_service.repo.history(s, since=AS_OF, until=AS_OF), [AS_OF])
        active = risk_service.repo.RiskModelRepository(s).active()
        for kind in kinds:
            population = everyone.filter(features.population(kind))
            expected = tabular.predict(risk_service.engine_model(active[kind]), population)
            rows = s.execute(
                select(AccountScore.account_id, AccountScore.score)
                .where(AccountScore.as_of_date == AS_OF, AccountScore.kind == kind)
                .order_by(AccountScore.account_id)
            ).all()
            want = sorted(zip(population["account_id"].to_list(), expected.tolist(), strict=True))
            assert len(rows) == len(want) > 0
            assert [(r.account_id, r.score) for r in rows] == want

    def test_one_accounts_read_gives_its_features_as_everyones_read_does(
        self, history_session: Session
    ) -> None:
        # `explain` computes an account's reasons from a read of that account alone: exact only
        # if every frame is filtered by the same accounts (a frame left unfiltered, or filtered by
        # the wrong key, e.g. the inbound messages by account id instead of customer, fails here)
        # and no feature depends on which other accounts were read (it found `replies_30d`
        # counting a customer's replies once per account of theirs in the read).
        s = history_session
        accounts = list(s.execute(select(Account).order_by(Account.id)).scalars().all())
        # A second account of the first customer: its id is not its customer's (the portfolio's
        # accounts and customers are numbered alike), owing one bill 10 days overdue.
        clock = clock_at(AS_OF)
        customer = s.get(Customer, accounts[0].customer_id)
        second = create_account(s, clock, customer=customer, opened=dt.date(2026, 1, 1))
        add_bill(s, clock, second, AS_OF - dt.timedelta(days=10), 7_000)
        assert second.id != second.customer_id
        for account in [*accounts[:5], second]:  # every other frame the history reads
            _activity(s, account)
        everyone = features.compute(risk_service.repo.history(s, since=AS_OF, until=AS_OF), [AS_OF])
        busy = [second.id, *(a.id for a in accounts[:4]), accounts[-1].id]
        for account_id in busy:
            alone = features.compute(
                risk_service.repo.history(s, since=AS_OF, until=AS_OF, account_ids=[account_id]),
                [AS_OF],
            )
            assert alone.equals(everyone.filter(pl.col("account_id") == account_id))

    def test_a_second_scoring_of_the_day_replaces_the_first(self, history_session: Session) -> None:
        s, clock = history_session, clock_at(AS_OF)
        risk_service.activate(s, train(s, "p_roll"), actor="wei", clock=clock)
        first = risk_service.score_day(s, AS_OF, clock=clock)
        again = risk_service.score_day(s, AS_OF, clock=clock)
        count = len(s.execute(select(AccountScore.id)).all())
        assert count == first.scored["p_roll"] == again.scored["p_roll"]

    def test_nothing_is_scored_without_an_active_model(self, history_session: Session) -> None:
        result = risk_service.score_day(history_session, AS_OF, clock=clock_at(AS_OF))
        assert result.scored == {}
        assert history_session.execute(select(AccountScore.id)).first() is None

    def test_explain_says_the_reasons_in_both_languages(self, history_session: Session) -> None:
        s, clock = history_session, clock_at(AS_OF)
        risk_service.activate(s, train(s, "p_pay"), actor="wei", clock=clock)
        risk_service.score_day(s, AS_OF, clock=clock)
        rows = s.execute(select(AccountScore)).scalars().all()
        # The reasons explain computes for one account are the batch's for the same features.
        everyone = features.compute(risk_service.repo.history(s, since=AS_OF, until=AS_OF), [AS_OF])
        model = risk_service.engine_model(risk_service.get_model(s, rows[0].model_id))
        said = 0
        for row in rows[:20]:
            (explained,) = risk_service.explain(s, row.account_id)
            assert explained.kind == "p_pay"
            assert explained.score == row.score
            frame = everyone.filter(pl.col("account_id") == row.account_id)
            (batch,) = tabular.reasons(model, frame, top=3, sign=-1)
            assert [r["code"] for r in explained.reasons] == [name for name, _ in batch]
            for reason in explained.reasons:
                assert reason["en"]
                assert reason["zh-CN"]
                assert reason["en"] != reason["zh-CN"]
            said += bool(explained.reasons)
        assert said > 0


class TestDailyRun:
    def test_the_day_is_scored_before_the_strategy_decides(self, history_session: Session) -> None:
        """A policy's segment conditions on p_pay and p_roll: the decisions of the very day the
        models are first run carry them. If scoring ran after the strategy (or the facts did not
        read the day's scores), no account would be in these segments."""
        s, clock = history_session, clock_at(AS_OF)
        for kind in ("p_pay", "p_roll"):
            risk_service.activate(s, train(s, kind), actor="wei", clock=clock)
        text = policy_text().replace(
            "segments:\n",
            "segments:\n  - name: scored_pay\n    when: p_pay >= 0\n"
            "  - name: scored_roll\n    when: p_roll >= 0\n",
            1,
        )
        version = strategy_service.save_policy(
            s, text, author="lin", clock=clock, source=str(POLICY)
        )
        strategy_service.activate(s, version.id, actor="lin", clock=clock)
        run = daily_flows.run_day(s, AS_OF, clock=clock, zone="Asia/Shanghai", actor="test")
        assert run.scoring is not None
        assert run.scoring.scored["p_pay"] > 0
        segments = dict(
            s.execute(
                select(StrategyDecision.account_id, StrategyDecision.segment).where(
                    StrategyDecision.as_of_date == AS_OF
                )
            ).all()
        )
        pay_scored = set(
            s.execute(
                select(AccountScore.account_id).where(
                    AccountScore.as_of_date == AS_OF, AccountScore.kind == "p_pay"
                )
            ).scalars()
        )
        decided_scored = {a for a, seg in segments.items() if a in pay_scored}
        assert decided_scored
        assert {segments[a] for a in decided_scored} == {"scored_pay"}
        assert run.scoring.summary()["scored_p_pay"] == run.scoring.scored["p_pay"]
