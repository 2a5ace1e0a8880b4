"""The simulator: the real engine on a simulated portfolio, day by day, with a simulated clock.

Each simulated day, in the debtors' time zone (Asia/Shanghai for the default world):

- 06:00 the daily run, as `recoup run daily` does it: arrangements kept and broken, the delinquency
  pass, the strategy's decisions and contact plans (checked by the compliance guard);
- 09:00 to 20:00 the dispatcher sends what is due, slot by slot, through the simulation channels
  (`SimulationAdapter`: every message the real dispatcher would hand a provider, after its send-time
  checks), and agents work the call queue through click-to-call (`contact.flows.dial`, checked by
  the guard twice, like a real agent's call); debtors react to what reached them through the real
  flows: they reply STOP (`receive_sms`), open the link and promise or ask for a plan
  (`arrangements.flows`), dispute or complain (`cases.flows`), answer calls;
- 20:00 the day's payments arrive as the wallet's settlement file (`ingest.Importer`, the same
  validation and waterfall as `recoup import`).

What the debtors do comes from the behaviour model (`behaviour.py`), deterministic for a seed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.agents import service as agents_service
from recoup.arrangements import flows as arrangement_flows
from recoup.arrangements import offers as arrangement_offers
from recoup.cases import flows as case_flows
from recoup.channels.base import Accepted, Outgoing
from recoup.compliance import load_guard
from recoup.compliance.vocabulary import jurisdiction_zones
from recoup.contact import flows as contact_flows
from recoup.contact.dispatch import DispatchConfig
from recoup.contact.templates import names_the_debtor
from recoup.daily import flows as daily_flows
from recoup.ingest.columns import ORDER, Kind
from recoup.ingest.importer import Importer
from recoup.kit import frames
from recoup.kit.clock import SettableClock
from recoup.kit.errors import RecoupError
from recoup.models import (
    Account,
    AccountDelinquency,
    Arrangement,
    ArrangementInstalment,
    Bill,
    ContactMessage,
    ContactPlan,
    Customer,
    DelinquencyPause,
    PauseKind,
    TemplateVersion,
)
from recoup.simulation import behaviour
from recoup.simulation.behaviour import Salt, uniform, uniform_one
from recoup.simulation.generator import SCALE, Generator
from recoup.simulation.world import World
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import Policy, parse_policy
from recoup.strategy.service import DEFAULT_WINDOW
from recoup.worker.dispatcher import Dispatcher

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
# What reached a debtor (behaviour.contact_multiplier reads it).
DELIVERIES = {
    "account_id": pl.Int64,
    "day": pl.Int64,
    "channel": pl.String,
    "tone": pl.String,
    "hour": pl.Int64,
    "personal": pl.Boolean,
}
CALL_SLOTS = (
    dt.time(10),
    dt.time(18, 30),
)  # the agents dial, morning and evening, before the dispatcher
CLAIM_BATCH = 1000  # contacts the simulated dispatcher claims at a time
REPLY_MINUTES = 30  # debtors react this long after a slot (sooner if the next slot comes first)
HARDSHIP_DAYS = 60
REMEMBERED_DAYS = 31  # longer than any channel's effect (at most 30 days) and the fatigue week
Progress = Callable[[int, int, str], None]


class SimulationAdapter:
    """A channel provider that hands each message to the simulated debtors instead of a network.
    Thread-safe: the dispatcher sends from several threads."""

    def __init__(self, channel: str) -> None:
        self.name = "simulation"
        self.channel = channel
        self.concurrency = 1
        self.rate_per_second: float | None = None
        self.inline = True  # hands the message over in memory
        self._lock = threading.Lock()
        self._sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> Accepted:
        with self._lock:
            self._sent.append(message)
        return Accepted(self.name, message.idempotency_key, delivered=self.channel != "dial")

    def take(self) -> list[Outgoing]:
        with self._lock:
            sent, self._sent = self._sent, []
        return sent

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Action:
    """Something a debtor does (stop, complaint, dispute, hardship, promise or plan), or how an
    agent's call went (call_result)."""

    kind: str
    account_id: int
    channel: str = "portal"
    to: str = ""  # the number a STOP comes from
    reason: str = ""  # a case's, or a call's result
    contact_id: int = 0  # the call's


@dataclass
class DayReport:
    date: dt.date
    payments: int = 0
    collected: Counter[str] = field(default_factory=Counter)  # currency -> minor units
    sent: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time by phase


@dataclass
class SimulationResult:
    start: dt.date
    days: list[DayReport] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(d.events[name] for d in self.days)

    @property
    def collected(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for d in self.days:
            out.update(d.collected)
        return out

    @property
    def sent(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for d in self.days:
            out.update(d.sent)
        return out


@contextmanager
def _timed(into: dict[str, float], phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        into[phase] = into.get(phase, 0.0) + time.perf_counter() - started


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).astimezone(dt.UTC)


def slots(policy: Policy) -> list[dt.time]:
    """When the dispatcher runs, local time: where the policy's contact windows open (the strategy
    plans each contact at its window's start) and when the agents dial."""
    opens = {
        dt.time.fromisoformat(t.window.start if t.window else DEFAULT_WINDOW)
        for stage in policy.stages
        for t in stage.treatments
    }
    return sorted(opens | set(CALL_SLOTS))


class Simulation:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: SettableClock,
        world: World,
        *,
        seed: int,
        start: dt.date,
        config: DispatchConfig,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.world = world
        self.seed = seed
        self.start = start
        self.config = config
        self.guard = load_guard()
        self.adapters = {c: SimulationAdapter(c) for c in ("sms", "email", "push", "dial")}
        self.deliveries: list[dict[str, Any]] = []
        self.hardship_until: dict[int, dt.date] = {}
        self.factor: dict[int, float] = {}
        self.accounts = pl.DataFrame()
        self._seen_message = 0  # the last stored message the debtors' apps have shown
        self.slots: list[dt.time] = list(CALL_SLOTS)  # set from the policy by `load_portfolio`
        self._reached: Counter[tuple[int, int]] = Counter()  # (account, day) -> contacts

    # setting up

    def load_portfolio(self, *, days: int, policy_text: str, policy_source: str) -> None:
        """Generate the world's portfolio as of the start, import it, activate the policy."""
        self.clock.set(local(self.start - dt.timedelta(days=1), 23))
        portfolio = Generator(
            seed=self.seed,
            as_of=self.start,
            foreign_share=self.world.portfolio.foreign_share,
            horizon=max(20, days + 20),
        ).portfolio(accounts=self.world.portfolio.accounts, prefix="s")
        for kind in ORDER:
            with self.sessions.begin() as session:
                result = Importer(session, clock=self.clock).import_rows(
                    f"simulated {kind}", kind, portfolio.frame(kind)
                )
            if result.errors:
                raise RecoupError(f"the generated {kind} failed validation: {result.errors[:3]}")
        with self.sessions.begin() as session:
            version = strategy_service.save_policy(
                session, policy_text, author="simulator", clock=self.clock, source=policy_source
            )
            strategy_service.activate(session, version.id, actor="simulator", clock=self.clock)
        self.slots = slots(parse_policy(policy_text, source=policy_source))
        self._load_accounts()

    def _load_accounts(self) -> None:
        with self.sessions() as session:
            self.accounts = frames.read_frame(
                session,
                select(
                    Account.id,
                    Account.customer_id,
                    Account.external_ref,
                    Account.product_code,
                    Account.currency,
                    Customer.jurisdiction,
                ).join(Customer, Customer.id == Account.customer_id),
                {
                    "account_id": pl.Int64,
                    "customer_id": pl.Int64,
                    "ref": pl.String,
                    "product": pl.String,
                    "currency": pl.String,
                    "jurisdiction": pl.String,
                },
            )
            # Debtors who have repaid a bill before: a personal greeting works on them only.
            self.repeat = set(
                session.execute(
                    select(Bill.account_id).where(Bill.paid_off_date.is_not(None)).distinct()
                ).scalars()
            )
            # The templates whose text greets the debtor by name, in any language.
            self.personal = {
                (v.name, v.channel, v.tone)
                for v in session.execute(
                    select(
                        TemplateVersion.name,
                        TemplateVersion.channel,
                        TemplateVersion.tone,
                        TemplateVersion.body,
                    ).where(TemplateVersion.status == "approved")
                )
                if names_the_debtor(v.body)
            }
        ids = self.accounts["account_id"].to_numpy()
        values, responsiveness = behaviour.debtors(self.seed, ids, self.world)
        self.factor = dict(zip(ids.tolist(), values.tolist(), strict=True))
        scale = np.array([SCALE.get(c, 1.0) for c in self.accounts["currency"].to_list()])
        income = behaviour.incomes(self.seed, ids, self.world, scale)
        self.accounts = self.accounts.with_columns(
            pl.Series("responsiveness", responsiveness, dtype=pl.Float64),
            # The wallet starts the period holding one payday's income (all zeros without one).
            pl.Series("income_minor", income, dtype=pl.Int64),
            pl.Series("balance_minor", income, dtype=pl.Int64),
        )
        self.zone = {
            account_id: zoneinfo.ZoneInfo(jurisdiction_zones(j)[0])
            for account_id, j in self.accounts.select("account_id", "jurisdiction").iter_rows()
        }

    # running

    def run(self, days: int, progress: Progress | None = None) -> SimulationResult:
        result = SimulationResult(self.start)
        dispatcher = Dispatcher(
            self.sessions,
            self.adapters,
            clock=self.clock,
            # The simulation channels answer at once: larger batches, fewer round trips.
            config=dataclasses.replace(self.config, batch=max(self.config.batch, CLAIM_BATCH)),
            guard=self.guard,
            rng=random.Random(self.seed),
        )
        try:
            for n in range(days):
                day = self.start + dt.timedelta(days=n)
                report = DayReport(day)
                timed = report.seconds
                if progress:
                    progress(n, days, f"{day.isoformat()}: daily run")
                # What reached debtors longer ago than any effect or fatigue window lasts is done.
                self.deliveries = [d for d in self.deliveries if d["day"] > n - REMEMBERED_DAYS]
                self._morning(day, timed)
                for slot, after in zip(self.slots, [*self.slots[1:], None], strict=True):
                    at = local(day, slot.hour, slot.minute)
                    self.clock.set(at)
                    if slot in CALL_SLOTS:
                        with _timed(timed, "agents dialling"):
                            self._agents_dial(day, report)
                    with _timed(timed, "dispatcher"):
                        self._drain(dispatcher, report)
                    # Debtors read and answer a while after the messages arrive (a reply cannot
                    # come at the very instant of the message it answers), before the next slot.
                    reply = at + dt.timedelta(minutes=REPLY_MINUTES)
                    if after is not None:
                        reply = min(reply, at + (local(day, after.hour, after.minute) - at) / 2)
                    self.clock.set(reply)
                    with _timed(timed, "debtors reacting"):
                        self._react(n, day, report)
                if progress:
                    progress(n, days, f"{day.isoformat()}: payments")
                with _timed(timed, "payments"):
                    self._payments(n, day, report)
                result.days.append(report)
        finally:
            dispatcher.close()
        if progress:
            progress(days, days, "done")
        return result

    def _morning(self, day: dt.date, timed: dict[str, float]) -> None:
        """The daily run, the same flow as `recoup run daily` (timed by step)."""
        self.clock.set(local(day, 6))
        with self.sessions.begin() as session:
            daily_flows.run_day(
                session,
                day,
                clock=self.clock,
                zone=ZONE.key,
                actor="simulator",
                timer=lambda step: _timed(timed, step),
            )

    def _drain(self, dispatcher: Dispatcher, report: DayReport) -> None:
        outcomes = dispatcher.run(stop=threading.Event(), until_idle=True, idle_seconds=0)
        report.events.update({f"contact_{k}": v for k, v in outcomes.items()})

    def _agents_dial(self, day: dt.date, report: DayReport) -> None:
        """The agents work today's call queue, highest priority first, as far as their capacity
        goes; their calls go through click-to-call and the guard, asked for together."""
        capacity = self.world.responses.calls.capacity_per_day // len(CALL_SLOTS)
        with self.sessions.begin() as session:
            tasks = agents_service.next_open(session, day, limit=capacity)
            if not tasks:
                return
            calls = contact_flows.dial_many(
                session,
                tasks,
                agent="sim-agent",
                actor="agent:sim",
                clock=self.clock,
                config=self.config,
                guard=self.guard,
                channels=list(self.adapters),
            )
            agents_service.done(session, tasks, now=self.clock.now())
        report.events["dials"] += len(calls)
        report.events["dial_blocked"] += sum(c.status == "blocked" for c in calls)

    def _react(self, n: int, day: dt.date, report: DayReport) -> None:
        """Debtors read what reached them and act through the real flows, all of a slot's actions
        in one transaction (`arrangement_offers.batch`), each in its own savepoint."""
        sent = [(c, m) for c, a in self.adapters.items() for m in a.take()]
        contact_ids = [int(m.metadata["contact_id"]) for _, m in sent]
        with self.sessions() as session:
            # The in-app messages stored since the last look (the app shows each message once).
            arrived = session.execute(
                select(ContactMessage.id, ContactMessage.contact_id, ContactMessage.channel).where(
                    ContactMessage.id > self._seen_message
                )
            ).all()
            self._seen_message = max((m[0] for m in arrived), default=self._seen_message)
            inbox = [contact for _, contact, channel in arrived if channel == "in_app"]
            wanted = contact_ids + inbox
            rows = (
                session.execute(
                    select(
                        ContactPlan.id,
                        ContactPlan.account_id,
                        ContactPlan.channel,
                        ContactPlan.tone,
                        ContactPlan.purpose,
                        ContactPlan.template,
                        ContactPlan.sent_at,
                    ).where(ContactPlan.id.in_(wanted))
                ).all()
                if wanted
                else []
            )
        plans = {r[0]: r for r in rows}
        to_of = {int(m.metadata["contact_id"]): m.to for _, m in sent}
        personalised = self.world.responses.personalised
        actions: list[Action] = []
        for contact_id in [*contact_ids, *inbox]:
            plan = plans.get(contact_id)
            if plan is None or plan[4] != "collection":
                continue
            _, account_id, channel, tone, _, template, sent_at = plan
            report.sent[channel] += 1
            hour = (sent_at or self.clock.now()).astimezone(self.zone[account_id]).hour
            if channel == "dial":
                actions += self._call(n, account_id, contact_id, hour, report)
                continue
            self.deliveries.append(
                {
                    "account_id": account_id,
                    "day": n,
                    "channel": channel,
                    "tone": tone,
                    "hour": hour,
                    "personal": (template, channel, tone) in self.personal
                    and (account_id in self.repeat or not personalised.repeat_only),
                }
            )
            self._reached[(account_id, n)] += 1
            actions += self._respond(n, account_id, channel, to_of.get(contact_id), report)
        self._act(n, day, actions, report)

    def _draw(self, account_id: int, n: int, salt: int, extra: int = 0) -> float:
        return uniform_one(self.seed, account_id * 131 + extra, n, salt)

    def _respond(
        self, n: int, account_id: int, channel: str, to: str | None, report: DayReport
    ) -> list[Action]:
        """What a debtor does on reading a message (drawn from the behaviour model)."""
        r = self.world.responses
        week = sum(self._reached[(account_id, d)] for d in range(n - 6, n + 1))
        fatigued = week > r.fatigue_threshold_7d
        if channel == "sms" and to and self._draw(account_id, n, Salt.stop) < r.stop_per_sms:
            report.events["stop"] += 1
            return [Action("stop", account_id, to=to)]
        actions: list[Action] = []
        complaint = r.complaint_when_fatigued if fatigued else r.complaint_per_contact
        if self._draw(account_id, n, Salt.complaint) < complaint:
            why = "too_many_contacts" if fatigued else "wrong_time"
            actions.append(Action("complaint", account_id, reason=why))
            report.events["complaint"] += 1
        if self._draw(account_id, n, Salt.dispute) < r.dispute_per_contact:
            actions.append(Action("dispute", account_id, reason="wrong_amount"))
            report.events["dispute"] += 1
            return actions
        if self._draw(account_id, n, Salt.link) >= r.opens_link:
            return actions
        report.events["link_opened"] += 1
        choice = self._draw(account_id, n, Salt.link_choice)
        if choice < r.wants_plan:
            actions.append(Action("plan", account_id))
        elif choice < r.wants_plan + r.promises_online:
            actions.append(Action("promise", account_id))
        return actions

    def _call(
        self, n: int, account_id: int, contact_id: int, hour: int, report: DayReport
    ) -> list[Action]:
        """The debtor answers or not; the agent records how the call went (its wrap-up)."""
        calls = self.world.responses.calls
        if self._draw(account_id, n, Salt.answer, self.clock.now().hour) >= calls.answer_rate:
            report.events["call_unanswered"] += 1
            return [
                Action(
                    "call_result",
                    account_id,
                    reason=behaviour.pick(
                        calls.unanswered, self._draw(account_id, n, Salt.call_outcome)
                    ),
                    contact_id=contact_id,
                )
            ]
        report.events["call_answered"] += 1
        self.deliveries.append(
            {
                "account_id": account_id,
                "day": n,
                "channel": "call",
                "tone": "neutral",
                "hour": hour,
                "personal": False,  # a conversation's effect is the call's own
            }
        )
        actions = [Action("call_result", account_id, reason="conversation", contact_id=contact_id)]
        if self._draw(account_id, n, Salt.call_promise) < calls.promise_rate:
            actions.append(Action("promise", account_id, channel="agent"))
        return actions

    def _act(self, n: int, day: dt.date, actions: list[Action], report: DayReport) -> None:
        if not actions:
            return
        arranging = {a.account_id for a in actions if a.kind in ("plan", "promise")}
        with (
            self.sessions.begin() as session,
            arrangement_offers.batch(session, arranging, clock=self.clock),
        ):
            owed = {
                account_id: (overdue, outstanding)
                for account_id, overdue, outstanding in session.execute(
                    select(
                        AccountDelinquency.account_id,
                        AccountDelinquency.overdue_minor,
                        AccountDelinquency.outstanding_minor,
                    ).where(AccountDelinquency.account_id.in_(arranging))
                )
            }
            contact_flows.record_call_results(
                session,
                [(a.contact_id, a.reason) for a in actions if a.kind == "call_result"],
                actor="agent:sim",
                clock=self.clock,
            )
            for action in actions:
                if action.kind == "stop":
                    contact_flows.receive_sms(
                        session,
                        provider="simulation",
                        provider_id=f"sim-{self.seed}-{n}-{action.account_id}",
                        from_number=action.to,
                        body="退订",
                        region="CN",
                        clock=self.clock,
                    )
                elif action.kind in ("complaint", "dispute", "hardship"):
                    self._case(session, action.account_id, action.kind, action.reason)
                elif self._arrange(session, action, day, *owed.get(action.account_id, (0, 0))):
                    report.events[action.kind] += 1

    def _arrange(
        self, session: Session, action: Action, day: dt.date, overdue: int, outstanding: int
    ) -> bool:
        """A promise (what the morning's pass found overdue, in three days) or a plan (six
        instalments, a budget of what is owed), through the same flow as the portal, in a
        savepoint; False when the policy does not offer it to the account now or the terms fall
        outside the offer."""
        try:
            with session.begin_nested():
                account = session.get(Account, action.account_id)
                assert account is not None
                arrangement_flows.make(
                    session,
                    account,
                    action.kind,
                    amount_minor=max(overdue, 1),
                    on=day + dt.timedelta(days=3),
                    instalments=6,
                    monthly_budget=outstanding,
                    made_by="debtor" if action.channel == "portal" else "agent:sim",
                    channel=action.channel,
                    clock=self.clock,
                )
        except RecoupError:
            return False
        return True

    def _case(self, session: Session, account_id: int, kind: str, reason: str) -> None:
        account = session.get(Account, account_id)
        assert account is not None
        case_flows.open_case(
            session,
            account.customer_id,
            kind=kind,
            reason=reason,
            text=None,
            account_ref=account.external_ref,
            opened_by="debtor",
            channel="portal",
            clock=self.clock,
        )

    # money

    def day_input(self, n: int, day: dt.date) -> behaviour.DayInput:
        with self.sessions() as session:
            states = frames.read_frame(
                session,
                select(
                    AccountDelinquency.account_id,
                    AccountDelinquency.bucket,
                    AccountDelinquency.overdue_minor,
                ).where(AccountDelinquency.outstanding_minor > 0),
                {"account_id": pl.Int64, "bucket": pl.String, "overdue_minor": pl.Int64},
            )
            due = frames.read_frame(
                session,
                select(
                    Bill.account_id,
                    func.sum(
                        Bill.principal_minor
                        + Bill.interest_minor
                        + Bill.fees_minor
                        - Bill.paid_minor
                    ),
                )
                .where(Bill.due_date == day, Bill.paid_off_date.is_(None))
                .group_by(Bill.account_id),
                {"account_id": pl.Int64, "due_today_minor": pl.Int64},
            )
            promised = frames.read_frame(
                session,
                select(Arrangement.account_id, func.sum(ArrangementInstalment.amount_minor))
                .join(ArrangementInstalment, ArrangementInstalment.arrangement_id == Arrangement.id)
                .where(Arrangement.status == "active", ArrangementInstalment.due_date == day)
                .group_by(Arrangement.account_id),
                {"account_id": pl.Int64, "promise_minor": pl.Int64},
            )
            paused = set(
                session.execute(
                    select(DelinquencyPause.account_id).where(
                        DelinquencyPause.kind == PauseKind.hardship,
                        DelinquencyPause.end_date.is_(None),
                        DelinquencyPause.cancelled_at.is_(None),
                    )
                ).scalars()
            )
        accounts = (
            states.join(due, on="account_id", how="full", coalesce=True)
            .join(promised, on="account_id", how="left")
            .join(
                self.accounts.select("account_id", "product", "responsiveness", "balance_minor"),
                on="account_id",
                how="inner",
            )
            .with_columns(
                pl.col("bucket").fill_null("M0"),
                pl.col("overdue_minor").fill_null(0),
                pl.col("due_today_minor").fill_null(0),
                pl.col("promise_minor").fill_null(0),
            )
        )
        hardship = {a for a, until in self.hardship_until.items() if until >= day} | paused
        accounts = accounts.with_columns(
            pl.col("account_id").is_in(list(hardship)).alias("hardship")
        )
        deliveries = pl.DataFrame(self.deliveries or None, schema=DELIVERIES, orient="row")
        return behaviour.DayInput(n, day, accounts.sort("account_id"), deliveries)

    def _hardship(self, n: int, day: dt.date, report: DayReport) -> None:
        ids = self.accounts["account_id"].to_numpy()
        daily = self.world.hardship.monthly_rate / 30
        hit = ids[uniform(self.seed, ids, n, Salt.hardship) < daily]
        asking: list[Action] = []
        for account_id in hit.tolist():
            if self.hardship_until.get(account_id, day) > day:
                continue
            self.hardship_until[account_id] = day + dt.timedelta(days=HARDSHIP_DAYS)
            report.events["hardship"] += 1
            if self._draw(account_id, n, Salt.hardship, 1) < self.world.hardship.asks_for_help:
                asking.append(Action("hardship", account_id, reason="job_loss"))
                report.events["hardship_case"] += 1
        self._act(n, day, asking, report)

    def _payments(self, n: int, day: dt.date, report: DayReport) -> None:
        self.clock.set(local(day, 21))
        self._hardship(n, day, report)
        wallet = self.world.wallet
        if wallet is not None and day.day in self.world.repayment.paydays:
            self.accounts = self.accounts.with_columns(
                pl.col("balance_minor") + pl.col("income_minor")
            )
        decided = behaviour.decide_payments(
            self.world, self.seed, self.day_input(n, day), self.factor
        )
        if wallet is not None:
            # What was paid leaves the wallet; a share of the rest goes on other things.
            paid = decided.group_by("account_id").agg(pl.col("amount_minor").sum())
            self.accounts = (
                self.accounts.join(paid, on="account_id", how="left")
                .with_columns(
                    (
                        (pl.col("balance_minor") - pl.col("amount_minor").fill_null(0))
                        * (1 - wallet.spend_share)
                    )
                    .floor()
                    .cast(pl.Int64)
                    .alias("balance_minor")
                )
                .drop("amount_minor")
            )
        if decided.height == 0:
            return
        rows = (
            decided.join(self.accounts, on="account_id")
            .select(
                pl.format("sim-{}-{}-{}", pl.lit(self.seed), pl.lit(n), "account_id").alias(
                    "external_id"
                ),
                pl.col("ref").alias("account_ref"),
                pl.col("amount_minor").cast(pl.String),
                "currency",
                pl.lit(local(day, 20).isoformat()).alias("received_at"),
                pl.lit("wallet").alias("source"),
            )
            .with_columns(_line=pl.int_range(2, decided.height + 2, dtype=pl.Int64))
        )
        with self.sessions.begin() as session:
            result = Importer(session, clock=self.clock).import_rows(
                f"wallet settlement {day.isoformat()}", Kind.payments, rows
            )
        if result.errors:
            raise RecoupError(f"simulated payments failed validation: {result.errors[:3]}")
        report.payments = decided.height
        by_currency = (
            decided.join(self.accounts, on="account_id")
            .group_by("currency")
            .agg(pl.col("amount_minor").sum())
        )
        report.collected.update(dict(by_currency.iter_rows()))
        report.events.update(dict(decided["kind"].value_counts().iter_rows()))
