"""Segments selected by what Recoup sees: the facts a world may select by (and the labels it may
not), who falls in which segment, each segment's own answers to contact, and the world's cure
rates kept when the segments differ by product, age or anything else they select by."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select

from recoup.bootstrap import init_database
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import Account, Customer, CustomerAddress
from recoup.simulation import behaviour
from recoup.simulation.debtors import Debtors, answered_share
from recoup.simulation.report import DayReport
from recoup.simulation.runner import Simulation, local
from recoup.simulation.world import (
    Calls,
    ChannelResponse,
    Portfolio,
    Responses,
    Segment,
    SegmentResponses,
    World,
    WorldError,
    load_world,
    parse_world,
)
from recoup.strategy.policy import load_policy
from tests.conftest import MASTER
from tests.strategy.test_daily_run import policy_text

pytestmark = pytest.mark.pure  # the simulation builds a database of its own, on SQLite
START = dt.date(2026, 6, 1)
N = 20_000
WORLDS = Path(__file__).resolve().parents[2] / "worlds"


class TestSelectionIsValidated:
    @pytest.mark.parametrize(
        ("select", "key", "why"),
        [
            ("{income_band: [high]}", "select.income_band", "hidden label"),
            ("{segment: [thin-file]}", "select.segment", "hidden label"),
            ("{p_pay: [0, 1]}", "select.p_pay", "engine's own decisions"),
            ("{contacts_in_stage: [0, 3]}", "select.contacts_in_stage", "engine's own"),
            ("{tenure_days: [30]}", "select.tenure_days", r"\[min, max\]"),
            ("{tenure_days: [90, 30]}", "select.tenure_days", "min <= max"),
            ("{reachable_email: yes-please}", "select.reachable_email", "true or false"),
            ("{age_band: [18-24, 3]}", "select.age_band", "list of values"),
            ("{}", "select", "at least one fact"),
        ],
    )
    def test_a_key_no_policy_could_see_is_refused_naming_it(
        self, select: str, key: str, why: str
    ) -> None:
        # Guards `world._condition`, checking every key against `SELECTABLE` (strategy FACTS).
        text = f"segments:\n  - {{name: s, select: {select}}}\n"
        with pytest.raises(WorldError, match=why) as refused:
            parse_world(text, source="w.yaml")
        message = str(refused.value)
        assert message.startswith("w.yaml: segments.0")
        assert key in message

    def test_a_segment_needs_a_share_or_a_select(self) -> None:
        with pytest.raises(WorldError, match="a share, a select, or both"):
            parse_world("segments: [{name: s, ability: 2}]", source="w.yaml")

    def test_its_responses_name_known_channels_and_tones(self) -> None:
        for text, word in (
            ("{channels: {fax: {effect: 2, days: 1}}}", "fax"),
            ("{tone: {shouting: 2}}", "shouting"),
            ("{by_hour: {25: 1}}", "by_hour.25"),
        ):
            with pytest.raises(WorldError, match=word):
                parse_world(
                    f"segments: [{{name: s, share: 0.5, responses: {text}}}]", source="w.yaml"
                )

    def test_shares_may_add_past_one_when_each_is_of_those_selected(self) -> None:
        world = parse_world(
            "segments:\n"
            "  - {name: a, share: 0.8, select: {product: [bnpl]}}\n"
            "  - {name: b, share: 0.8, select: {product: [micro_loan]}}\n",
            source="w.yaml",
        )
        assert world.selects
        with pytest.raises(ValueError, match="the portfolio's"):
            world.mix()

    @pytest.mark.parametrize("path", sorted(WORLDS.glob("*.yaml")), ids=lambda p: p.stem)
    def test_the_shipped_worlds_load(self, path: Path) -> None:
        world = load_world(path)
        assert world.world == path.stem

    @pytest.mark.parametrize(
        "path", sorted((WORLDS / "policies").glob("*.yaml")), ids=lambda p: p.stem
    )
    def test_the_policies_beside_them_load(self, path: Path) -> None:
        assert load_policy(path).name == path.stem


def facts_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": [1, 2, 3, 4, 5, 6],
            "product": ["bnpl", "micro_loan", "bnpl", "credit_line", "bnpl", "micro_loan"],
            "age_band": ["18-24", "55+", None, "45-54", "25-34", "18-24"],
            "region": ["GD", "SH", "ZJ", None, "ZJ", "GD"],
            "reachable_email": [False, True, True, False, True, False],
            "outstanding_minor": [50_000, 2_000_000, 10_000, 900_000, 300_000, 1_500_000],
        }
    )


class TestAssignment:
    def test_the_first_segment_whose_conditions_all_hold_takes_the_debtor(self) -> None:
        world = World(
            segments=[
                Segment(name="big", select={"outstanding_minor": [1_000_000, None]}),
                Segment(name="email-zj", select={"region": ["ZJ"], "reachable_email": True}),
                Segment(name="young", select={"age_band": ["18-24", "25-34"]}),
                Segment(name="unknown-age", select={"age_band": [None]}),
            ]
        )
        facts = facts_frame()
        got = behaviour.segments_of(7, facts["account_id"].to_numpy(), world, facts)
        # 2 and 6 are big before anything else; 3 and 5 are in ZJ with an e-mail (5 young too);
        # 1 is young; 4 (45-54, no region) is in none (index 4).
        assert got.tolist() == [2, 0, 1, 4, 1, 0]

    def test_a_share_takes_that_part_of_those_selected_and_no_one_else(self) -> None:
        n = 10_000
        ids = np.arange(1, n + 1)
        facts = pl.DataFrame({"product": ["bnpl", "micro_loan"] * (n // 2)})
        world = World(segments=[Segment(name="s", share=0.3, select={"product": ["micro_loan"]})])
        got = behaviour.segments_of(7, ids, world, facts)
        micro = facts["product"].to_numpy() == "micro_loan"
        assert (got[~micro] == 1).all()
        assert np.mean(got[micro] == 0) == pytest.approx(0.3, abs=0.02)

    def test_segments_drawn_at_random_draw_as_before(self) -> None:
        # the draw a world without selects made before selects existed: one uniform, laid end
        # to end over the shares
        world = World(segments=[Segment(name="a", share=0.3), Segment(name="b", share=0.2)])
        ids = np.arange(1, 5_001)
        u = behaviour.uniform(3, ids, 0, behaviour.Salt.segment)
        expected = np.where(u < 0.3, 0, np.where(u < 0.5, 1, 2))
        assert behaviour.segments_of(3, ids, world).tolist() == expected.tolist()

    def test_a_selecting_world_without_the_facts_is_refused(self) -> None:
        world = World(segments=[Segment(name="s", select={"product": ["bnpl"]})])
        with pytest.raises(ValueError, match="facts"):
            behaviour.segments_of(1, np.arange(1, 4), world)


def deliveries(channel: str, ids: list[int], tone: str = "gentle", hour: int = 12) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": ids,
            "day": [0] * len(ids),
            "channel": [channel] * len(ids),
            "tone": [tone] * len(ids),
            "hour": [hour] * len(ids),
        },
        schema={
            "account_id": pl.Int64,
            "day": pl.Int64,
            "channel": pl.String,
            "tone": pl.String,
            "hour": pl.Int64,
        },
    )


class TestSegmentResponses:
    WORLD = World(
        segments=[
            Segment(
                name="young",
                select={"age_band": ["18-24"]},
                responses=SegmentResponses(
                    channels={"push": ChannelResponse(effect=2.0, days=3)},
                    tone={"firm": 0.5},
                    by_hour={20: 0.0},
                ),
            ),
            Segment(
                name="older",
                select={"age_band": ["55+"]},
                responses=SegmentResponses(channels={"sms": ChannelResponse(effect=1.9, days=3)}),
            ),
        ],
        responses=Responses(max_effect=10),
    )
    IDS = np.array([1, 2, 3])
    SEGMENTS = np.array([0, 1, 2])  # young, older, none

    def multiplier(self, d: pl.DataFrame, day: int = 0) -> list[float]:
        mult, _ = behaviour.contact_multiplier(
            self.WORLD, d, day, self.IDS, np.ones(3), self.SEGMENTS
        )
        return [round(float(m), 4) for m in mult]

    def test_each_segment_gets_its_own_channel_effects(self) -> None:
        # Guards `behaviour._segment_multiplier` (the per-segment response tables); without the
        # segments every debtor gets the world's, the next test but one.
        # push: the young's own 2.0; the others the world's 1.12
        assert self.multiplier(deliveries("push", [1, 2, 3])) == [2.0, 1.12, 1.12]
        # sms: the older's own 1.9; the others the world's 1.25
        assert self.multiplier(deliveries("sms", [1, 2, 3])) == [1.25, 1.9, 1.25]
        # the young's push lasts its own 3 days, the world's push 2
        assert self.multiplier(deliveries("push", [1, 2, 3]), day=2) == [2.0, 1.0, 1.0]

    def test_and_its_own_tones_and_hours(self) -> None:
        # firm: the young halve the effect (2.0 * 0.5), the rest the world's 0.9
        assert self.multiplier(deliveries("push", [1, 2, 3], tone="firm")) == [1.0, 1.008, 1.008]
        # at 20:00 a push lands none of its lift on the young, all of it on the rest
        assert self.multiplier(deliveries("push", [1, 2, 3], hour=20)) == [1.0, 1.12, 1.12]

    def test_without_the_segments_every_debtor_gets_the_worlds(self) -> None:
        mult, _ = behaviour.contact_multiplier(
            self.WORLD, deliveries("push", [1, 2, 3]), 0, self.IDS, np.ones(3)
        )
        assert [round(float(m), 4) for m in mult] == [1.12, 1.12, 1.12]

    def test_a_segments_own_fatigue_threshold_lowers_its_payments(self) -> None:
        world = World(
            segments=[
                Segment(
                    name="touchy",
                    select={"age_band": ["18-24"]},
                    responses=SegmentResponses(fatigue_threshold_7d=1),
                )
            ]
        )
        ids = np.arange(1, N + 1)
        segment = np.where(ids % 2 == 0, 0, 1)
        two_sms = pl.concat([deliveries("in_app", ids.tolist())] * 2)
        frame = pl.DataFrame(
            {
                "account_id": ids,
                "product": ["bnpl"] * N,
                "bucket": ["M2"] * N,
                "overdue_minor": [10_000] * N,
                "due_today_minor": [0] * N,
                "hardship": [False] * N,
                "promise_minor": [0] * N,
                "segment": segment,
                "responsiveness": [1.0] * N,
            }
        )
        mixes = behaviour.mixes(world, ["bnpl"] * N, segment)
        paid = behaviour.decide_payments(
            world, 3, behaviour.DayInput(0, START, frame, two_sms), {}, mixes
        ).filter(pl.col("kind") == "cure")
        paying = np.isin(ids, paid["account_id"].to_numpy())
        # two contacts this week: past the touchy's threshold of 1 (a 30 % penalty), within the
        # world's 5 for the others
        touchy, rest = paying[segment == 0].mean(), paying[segment == 1].mean()
        assert touchy < rest * 0.85


def cohort(world: World, facts: pl.DataFrame, bucket: str, seed: int = 3) -> dict[str, float]:
    """Per product, the share of the cohort's accounts entering `bucket` that pay in full within
    30 days with no contact at all."""
    ids = np.arange(1, facts.height + 1)
    segment = behaviour.segments_of(seed, ids, world, facts)
    ability, responsiveness = behaviour.traits(world, segment)
    f = behaviour.factors(seed, ids, world.repayment.heterogeneity) * ability
    factor = dict(zip(ids.tolist(), f.tolist(), strict=True))
    products = facts["product"].to_list()
    mixes = behaviour.mixes(world, products, segment)
    owing = np.ones(ids.size, dtype=bool)
    base = pl.DataFrame(
        {
            "account_id": ids,
            "product": products,
            "bucket": [bucket] * ids.size,
            "overdue_minor": [10_000] * ids.size,
            "due_today_minor": [0] * ids.size,
            "hardship": [False] * ids.size,
            "promise_minor": [0] * ids.size,
            "segment": segment,
            "responsiveness": responsiveness,
        }
    )
    for day in range(30):
        frame = base.filter(pl.Series(owing))
        state = behaviour.DayInput(day, START + dt.timedelta(days=day), frame, deliveries("", []))
        paid = behaviour.decide_payments(world, seed, state, factor, mixes)
        cured = paid.filter(pl.col("kind") == "cure")["account_id"].to_numpy()
        owing[cured - 1] = False
    out = {}
    for product in set(products):
        mine = np.array(products) == product
        out[product] = 1 - owing[mine].mean()
    return out


class TestCalibration:
    def test_segments_selected_by_product_and_age_keep_each_products_cure_rate(self) -> None:
        rng = np.random.default_rng(5)
        facts = pl.DataFrame(
            {
                "product": rng.choice(["bnpl", "micro_loan"], N, p=[0.5, 0.5]),
                "age_band": rng.choice(["18-24", "25-34", "45-54"], N, p=[0.3, 0.4, 0.3]),
            }
        )
        world = World(
            segments=[
                # slow micro-loan payers, keen older ones: abilities far from 1 and uneven
                # across the products, which a mix over the whole portfolio would get wrong
                Segment(name="thin", select={"product": ["micro_loan"]}, share=0.6, ability=0.25),
                Segment(name="settled", select={"age_band": ["45-54"]}, ability=3.0),
            ]
        )
        # Guards `behaviour.mixes` feeding `decide_payments`: the hazards solved over each product's
        # mix as assigned. Solved over no mix (or the portfolio's), micro-loans cured at 34 % for
        # their configured 50 % when that was taken out.
        got = cohort(world, facts, "M2")
        for product, rate in got.items():
            assert rate == pytest.approx(world.repayment.cure(product, "M2"), abs=0.015), product


class TestInASimulation:
    def test_debtors_fall_in_segments_by_their_facts_and_the_report_says_so(
        self, tmp_path: Path
    ) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'segments.db'}")
        clock = SettableClock(local(START - dt.timedelta(days=1), 23))
        init_database(engine, clock=clock, master=MASTER)
        sessions = make_sessionmaker(engine)
        world = World(
            portfolio=Portfolio(accounts=240),
            segments=[
                Segment(name="young", select={"age_band": ["18-24", "25-34"]}),
                Segment(name="gd", select={"region": ["GD"]}, ability=2.0),
            ],
        )
        simulation = Simulation(
            sessions, clock, world, seed=5, start=START, config=DispatchConfig(worker="sim")
        )
        simulation.load_portfolio(days=2, policy_text=policy_text(), policy_source="segments")
        result = simulation.run(2)
        debtors = simulation.debtors
        assert not debtors.unassigned
        with sessions() as session:
            rows = session.execute(
                select(Account.id, Customer.birth_year, CustomerAddress.region)
                .join(Customer, Customer.id == Account.customer_id)
                .outerjoin(CustomerAddress, CustomerAddress.customer_id == Customer.id)
            ).all()
        expected = {}
        for account_id, born, region in rows:
            young = born is not None and START.year - born < 35
            expected[account_id] = 0 if young else 1 if region == "GD" else 2
        assert debtors.segment == expected
        # the ability of the segment is in each debtor's lasting factor
        for account_id, k in debtors.segment.items():
            ability = 2.0 if k == 1 else 1.0
            assert debtors.factor[account_id] == pytest.approx(
                debtors.base_factor[account_id] * ability
            )
        counts = Counter(expected.values())
        assert result.segments == {"young": counts[0], "gd": counts[1], "-": counts[2]}
        assert min(counts.values()) > 10
        assert result.accounts == 240
        assert sum(result.per_segment("segment_sent").values()) == result.contacts()
        # Every call the agents placed is in the tally by segment, hour and answer. Fails without
        # the count in `Debtors._call` (tried: the tally is empty while calls were placed).
        calls = result.per_segment("segment_calls")
        placed = result.total("call_answered") + result.total("call_unanswered")
        assert placed > 0
        assert sum(calls.values()) == placed
        assert sum(n for (_, k), n in calls.items() if k.endswith(" answered")) == result.total(
            "call_answered"
        )
        assert {k.split()[0] for _, k in calls} <= {"day", "evening"}


class TestAnswerByHour:
    """`answer_by_hour`: a segment answers calls at some local hours less (evening-answer)."""

    def test_a_call_in_the_working_day_is_answered_less(self) -> None:
        # Fails when `answered_share` ignores `answer_by_hour` (tried: the multiplication removed):
        # the morning call would be answered as often as the evening one.
        own = SegmentResponses(answer_rate=0.6, answer_by_hour={10: 0.1})
        assert answered_share(0.35, own, 10) == pytest.approx(0.06)
        assert answered_share(0.35, own, 19) == pytest.approx(0.6)

    def test_without_a_table_the_segments_or_the_worlds_rate_holds(self) -> None:
        assert answered_share(0.35, None, 10) == pytest.approx(0.35)
        assert answered_share(0.35, SegmentResponses(answer_rate=0.5), 10) == pytest.approx(0.5)
        assert answered_share(
            0.35, SegmentResponses(answer_by_hour={10: 0.5}), 10
        ) == pytest.approx(0.175)

    def test_a_share_above_one_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"answer_by_hour\.10"):
            SegmentResponses(answer_by_hour={10: 1.5})


def promised(segment: np.ndarray, bucket: str = "M1") -> pl.DataFrame:
    """A day's accounts, each with nothing overdue and a promise of ¥100 due today (the segment
    each debtor is in: an index into the world's, the last none)."""
    n = segment.size
    return pl.DataFrame(
        {
            "account_id": np.arange(1, n + 1),
            "product": ["credit_line"] * n,
            "bucket": [bucket] * n,
            "overdue_minor": [0] * n,
            "due_today_minor": [0] * n,
            "hardship": [False] * n,
            "promise_minor": [10_000] * n,
            "segment": segment,
            "responsiveness": [1.0] * n,
        }
    )


class TestPromisesBySegment:
    """A segment's own `promise_rate` (answered calls that end in a promise) and `promise_keep`
    (promises kept by bucket), as angry borrowers promise less or break more (angry-large)."""

    ANGRY = Segment(
        name="angry",
        select={"outstanding_minor": [1_000_000, None]},
        responses=SegmentResponses(promise_rate=0.1, promise_keep={"M1": 0.15}),
    )

    def kept(self, world: World, segment: np.ndarray, bucket: str = "M1") -> np.ndarray:
        ids = np.arange(1, segment.size + 1)
        factor = behaviour.factors(3, ids, world.repayment.heterogeneity)
        state = behaviour.DayInput(0, START, promised(segment, bucket), deliveries("", []))
        mixes = behaviour.mixes(world, ["credit_line"] * segment.size, segment)
        paid = behaviour.decide_payments(
            world, 3, state, dict(zip(ids.tolist(), factor.tolist(), strict=True)), mixes
        ).filter(pl.col("kind") == "promise")
        return np.isin(ids, paid["account_id"].to_numpy())

    def test_a_segments_own_keep_table_holds_for_its_debtors_only(self) -> None:
        # Fails when `behaviour._segment_keeps` is not applied (tried: the call in
        # `decide_payments` removed): the angry keep the world's 65 % in M1 as everyone else.
        world = World(segments=[self.ANGRY])
        segment = np.arange(N) % 2  # half angry (0), half in none (1)
        kept = self.kept(world, segment)
        assert kept[segment == 0].mean() == pytest.approx(0.15, abs=0.015)
        assert kept[segment == 1].mean() == pytest.approx(0.65, abs=0.015)

    def test_a_bucket_it_does_not_list_keeps_the_worlds(self) -> None:
        world = World(segments=[self.ANGRY])
        segment = np.arange(N) % 2
        kept = self.kept(world, segment, bucket="M2")
        for k in (0, 1):
            assert kept[segment == k].mean() == pytest.approx(0.45, abs=0.015)

    def test_without_its_own_table_a_segment_keeps_as_before(self) -> None:
        plain = World(segments=[Segment(name="angry", select=self.ANGRY.select)])
        segment = np.arange(N) % 2
        bare = self.kept(plain, segment)
        assert (
            bare
            == self.kept(
                World(
                    segments=[
                        self.ANGRY.model_copy(
                            update={"responses": SegmentResponses(promise_rate=0.1)}
                        )
                    ]
                ),
                segment,
            )
        ).all()

    def test_a_segments_answered_calls_promise_at_its_own_rate(self) -> None:
        # Fails when `Debtors._call` draws against the world's `calls.promise_rate` whatever the
        # segment says (tried: `own.promises(...)` replaced by `calls.promise_rate`).
        world = World(segments=[self.ANGRY], responses=Responses(calls=Calls(answer_rate=1.0)))
        clock = SettableClock(local(START, 11))
        debtors = Debtors(None, clock, world, seed=3)  # type: ignore[arg-type]  # no database read
        ids = range(1, N + 1)
        debtors.segment = {i: i % 2 for i in ids}
        report = DayReport(START)
        promises: Counter[int] = Counter()
        for i in ids:
            actions = debtors._call(0, i, i, 11, report)
            promises[i % 2] += any(a.kind == "promise" for a in actions)
        assert report.events["call_answered"] == N
        assert promises[0] / (N / 2) == pytest.approx(0.1, abs=0.015)
        assert promises[1] / (N / 2) == pytest.approx(0.5, abs=0.015)

    @pytest.mark.parametrize(
        ("responses", "where"),
        [
            ("{promise_rate: 1.5}", "segments.0.responses.promise_rate"),
            ("{promise_keep: {M1: 1.0}}", "promise_keep.M1"),
            ("{promise_keeps: {M1: 0.2}}", "segments.0.responses.promise_keeps"),
            ("{calls: {promise_rate: 0.2}}", "segments.0.responses.calls"),
        ],
    )
    def test_bad_values_and_unknown_keys_are_refused_with_where(
        self, responses: str, where: str
    ) -> None:
        text = (
            "segments:\n  - name: angry\n    select: {outstanding_minor: [1_000_000, null]}\n"
            f"    responses: {responses}\n"
        )
        with pytest.raises(WorldError, match=rf"angry.yaml: .*{re.escape(where)}"):
            parse_world(text, source="angry.yaml")


class TestLinksBySegment:
    """A segment's own `opens_link` by channel and `promises_online`: a phone's spam filter buries
    its texts while its app's messages are read and acted on (sms-filtered-young)."""

    FILTERED = Segment(
        name="filtered",
        select={"age_band": ["18-24", "25-34"]},
        responses=SegmentResponses(opens_link={"push": 0.4, "sms": 0.01}, promises_online=0.7),
    )

    def opened(self, world: World, channel: str) -> dict[int, tuple[float, float]]:
        """Per segment (0: filtered, 1: none), the share of delivered `channel` messages whose
        link was opened, and of those the share that ended in a promise."""
        clock = SettableClock(local(START, 12))
        debtors = Debtors(None, clock, world, seed=5)  # type: ignore[arg-type]  # no database read
        ids = range(1, N + 1)
        debtors.segment = {i: i % 2 for i in ids}
        report = DayReport(START)
        opened: Counter[int] = Counter()
        promised: Counter[int] = Counter()
        for i in ids:
            before = report.events["link_opened"]
            actions = debtors._respond(0, i, channel, None, report)
            opened[i % 2] += report.events["link_opened"] - before
            promised[i % 2] += any(a.kind == "promise" for a in actions)
        return {k: (opened[k] / (N / 2), promised[k] / max(opened[k], 1)) for k in (0, 1)}

    def test_a_segments_link_rate_holds_for_its_debtors_and_channel_only(self) -> None:
        """Fails when `Debtors._respond` draws against the world's `opens_link` whatever the
        segment says (tried: `own.opens(...)` replaced by `r.opens_link`: the filtered opened
        8 % of pushes and of texts, as everyone else)."""
        world = World(segments=[self.FILTERED])
        push, sms, in_app = (self.opened(world, c) for c in ("push", "sms", "in_app"))
        assert push[0][0] == pytest.approx(0.4, abs=0.015)
        assert sms[0][0] == pytest.approx(0.01, abs=0.005)
        assert in_app[0][0] == pytest.approx(0.08, abs=0.01)  # a channel it does not list
        for rest in (push[1], sms[1], in_app[1]):  # the debtors in none: the world's 8 %
            assert rest[0] == pytest.approx(0.08, abs=0.01)

    def test_a_segments_online_promises_hold_for_its_debtors_only(self) -> None:
        """Fails when `Debtors._respond` splits an opened link by the world's `promises_online`
        whatever the segment says (tried: `own.promises_by_link(...)` replaced by
        `r.promises_online`: the filtered promised on 30 % of their opened links)."""
        push = self.opened(World(segments=[self.FILTERED]), "push")
        # Of an opened link, `wants_plan` (25 %) ask for a plan; the next 70 % of the draws
        # promise (the segment's share), the next 30 % for the rest.
        assert push[0][1] == pytest.approx(0.7, abs=0.03)
        assert push[1][1] == pytest.approx(0.3, abs=0.04)

    def test_without_its_own_keys_a_segment_opens_and_promises_as_before(self) -> None:
        plain = World(segments=[Segment(name="filtered", select=self.FILTERED.select)])
        assert self.opened(plain, "push") == self.opened(World(), "push")

    @pytest.mark.parametrize(
        ("responses", "where"),
        [
            ("{opens_link: {push: 1.5}}", "opens_link.push"),
            ("{opens_link: {call: 0.5}}", "opens_link: call"),
            ("{opens_link: {fax: 0.5}}", "opens_link: fax"),
            ("{promises_online: -0.1}", "segments.0.responses.promises_online"),
        ],
    )
    def test_bad_values_and_unknown_channels_are_refused_with_where(
        self, responses: str, where: str
    ) -> None:
        text = (
            "segments:\n  - name: filtered\n    select: {age_band: ['18-24']}\n"
            f"    responses: {responses}\n"
        )
        with pytest.raises(WorldError, match=rf"filtered.yaml: .*{re.escape(where)}"):
            parse_world(text, source="filtered.yaml")
