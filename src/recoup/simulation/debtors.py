"""The simulated debtors: who they are (drawn from the behaviour model, deterministic for a seed),
what reached them, and what they do about it through the real flows: they reply STOP
(`contact.flows.receive_sms`) or, some of them, in words the assistant reads
(`assistant.flows.receive_sms`, the SMS webhook's road), open the link and promise or ask for a plan (`arrangements.flows`),
dispute or complain (`cases.flows`), answer the agents' calls, and fall on hard times.

Their reads go through the owners' repositories (ledger, contact, delinquency); every change
they make goes through the owners' flows."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from recoup.arrangements import flows as arrangement_flows
from recoup.arrangements import offers as arrangement_offers
from recoup.assistant import dataset as assistant_dataset
from recoup.assistant import flows as assistant_flows
from recoup.cases import flows as case_flows
from recoup.channels.base import Outgoing
from recoup.compliance.vocabulary import jurisdiction_zones
from recoup.contact import flows as contact_flows
from recoup.contact import repository as contact_repo
from recoup.contact.templates import names_the_debtor
from recoup.delinquency import repository as delinquency_repo
from recoup.kit.clock import SettableClock
from recoup.kit.errors import RecoupError
from recoup.ledger import repository as ledger_repo
from recoup.simulation import behaviour
from recoup.simulation.behaviour import Salt, uniform, uniform_one
from recoup.simulation.generator import SCALE
from recoup.simulation.report import DayReport
from recoup.simulation.world import SegmentResponses, World
from recoup.strategy import service as strategy_service

# What reached a debtor (behaviour.contact_multiplier reads it).
DELIVERIES = {
    "account_id": pl.Int64,
    "day": pl.Int64,
    "channel": pl.String,
    "tone": pl.String,
    "hour": pl.Int64,
    "personal": pl.Boolean,
}
HARDSHIP_DAYS = 60
# What a debtor writes back in words, by what they do: the assistant's intent whose held-out texts
# they draw from (`Responses.replies_in_words`).
WORDS = {
    "promise": "promise_to_pay",
    "plan": "payment_plan",
    "dispute": "dispute",
    "complaint": "complaint",
    "hardship": "hardship",
    "stop": "stop",
}
# A debtor's answer to the assistant's alternatives: a promise of what is overdue, in three days.
FOLLOW_UP = {
    "zh-Hans": "好的，那{month}月{day}号还{amount}元",
    "zh-Hant": "好，那{month}月{day}號還{amount}元",
    "en": "ok, I will pay {amount} on {month_name} {day}",
}
# The language a debtor writes in, by jurisdiction (else English).
WRITES = {"CN": "zh-Hans", "TW": "zh-Hant", "HK": "zh-Hant", "MO": "zh-Hant"}
# The simulator has no settings: its assistant signs with the defaults'.
SIM_VOICE = assistant_flows.Voice(creditor_name="Recoup Wallet", support_phone="400-000-0000")
ARRANGED_OR_CASE = frozenset({"plan", "promise", "complaint", "dispute", "hardship"})
# The local hour from which a call counts as an evening call in the report's tally by segment.
EVENING = 18
REMEMBERED_DAYS = 31  # longer than any channel's effect (at most 30 days) and the fatigue week


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


def answered_share(default: float, own: SegmentResponses | None, hour: int) -> float:
    """The chance a call placed at the debtor's local `hour` is answered: the segment's answer
    rate (the world's when it has none), times its share for the hour (`answer_by_hour`)."""
    rate = default if own is None or own.answer_rate is None else own.answer_rate
    if own is not None and own.answer_by_hour is not None:
        rate *= own.answer_by_hour.get(hour, 1.0)
    return rate


class Debtors:
    """The portfolio's debtors and their memory of the simulation so far."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: SettableClock, world: World, *, seed: int
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.world = world
        self.seed = seed
        # One row per account: who, where, and the wallet (responsiveness, income, balance).
        self.accounts = pl.DataFrame()
        self.factor: dict[int, float] = {}
        self.base_factor: dict[int, float] = {}  # before the segment's ability
        # Each debtor's segment (an index into the world's; len(segments): none), and the mix of
        # segments per product the hazards are solved over, when segments select by facts.
        self.segment: dict[int, int] = {}
        self.unassigned: set[int] = set()
        self.mixes: dict[str, behaviour.Mix] | None = None
        self.zone: dict[int, zoneinfo.ZoneInfo] = {}
        self.writes: dict[int, str] = {}  # the language each debtor writes in (`WRITES`)
        self.held_with: dict[int, list[int]] = {}  # account -> every account of its customer
        self.repeat: set[int] = set()
        self.personal: set[tuple[str, str, str]] = set()
        self.deliveries: list[dict[str, Any]] = []
        self.hardship_until: dict[int, dt.date] = {}
        self._seen_message = 0  # the last stored message the debtors' apps have shown
        self.number: dict[int, str] = {}  # the number each debtor's last text reached
        self._texts: dict[tuple[str, str], list[str]] | None = None
        self._reached: Counter[tuple[int, int]] = Counter()  # (account, day) -> contacts

    def load(self) -> None:
        """Read the imported portfolio and draw each debtor's traits."""
        with self.sessions() as session:
            self.accounts = ledger_repo.accounts_with_customer(session)
            # Debtors who have repaid a bill before: a personal greeting works on them only.
            self.repeat = ledger_repo.accounts_with_a_paid_off_bill(session)
            # The templates whose text greets the debtor by name, in any language.
            self.personal = {
                (name, channel, tone)
                for name, channel, tone, body in contact_repo.approved_template_bodies(session)
                if names_the_debtor(body)
            }
        ids = self.accounts["account_id"].to_numpy()
        f = behaviour.factors(self.seed, ids, self.world.repayment.heterogeneity)
        self.base_factor = dict(zip(ids.tolist(), f.tolist(), strict=True))
        none = len(self.world.segments)
        if self.world.selects:
            # Assigned from the facts once the morning's pass has read the accounts (`assign`).
            segment = np.full(ids.size, none, dtype=np.int64)
            self.unassigned = set(ids.tolist())
            self.mixes = {}
        else:
            segment = behaviour.segments_of(self.seed, ids, self.world)
        ability, responsiveness = behaviour.traits(self.world, segment)
        self.factor = dict(zip(ids.tolist(), (f * ability).tolist(), strict=True))
        self.segment = dict(zip(ids.tolist(), segment.tolist(), strict=True))
        scale = np.array([SCALE.get(c, 1.0) for c in self.accounts["currency"].to_list()])
        income = behaviour.incomes(self.seed, ids, self.world, scale)
        self.accounts = self.accounts.with_columns(
            pl.Series("segment", segment, dtype=pl.Int64),
            pl.Series("responsiveness", responsiveness, dtype=pl.Float64),
            # The wallet starts the period holding one payday's income (all zeros without one).
            pl.Series("income_minor", income, dtype=pl.Int64),
            pl.Series("balance_minor", income, dtype=pl.Int64),
        )
        self.zone = {}
        self.writes = {}
        held: dict[int, list[int]] = {}
        for account_id, customer_id, j in self.accounts.select(
            "account_id", "customer_id", "jurisdiction"
        ).iter_rows():
            self.zone[account_id] = zoneinfo.ZoneInfo(jurisdiction_zones(j)[0])
            self.writes[account_id] = WRITES.get(str(j).split("-")[0], "en")
            held.setdefault(customer_id, []).append(account_id)
        self.held_with = {a: ids for ids in held.values() for a in ids}

    def assign(self, day: dt.date) -> None:
        """Segments for the debtors not yet in one, in a world whose segments select: chosen by
        the facts the strategy reads for them today (`strategy.service.facts`, what the engine
        itself sees), once; a debtor keeps the segment. The first call reads every account, the
        later ones only those still unassigned (accounts the pass had not yet read)."""
        if not self.unassigned:
            return
        first = len(self.unassigned) == len(self.segment)
        with self.sessions() as session:
            facts = strategy_service.facts(session, day, None if first else sorted(self.unassigned))
        facts = facts.filter(pl.col("account_id").is_in(list(self.unassigned)))
        if facts.height == 0:
            return
        ids = facts["account_id"].to_numpy().astype(np.int64)
        segment = behaviour.segments_of(self.seed, ids, self.world, facts)
        ability, responsiveness = behaviour.traits(self.world, segment)
        for account_id, k, a in zip(ids.tolist(), segment.tolist(), ability.tolist(), strict=True):
            self.segment[account_id] = k
            self.factor[account_id] = self.base_factor[account_id] * a
        self.unassigned -= set(ids.tolist())
        chosen = pl.DataFrame(
            {"account_id": ids, "segment": segment, "responsiveness": responsiveness},
            schema={"account_id": pl.Int64, "segment": pl.Int64, "responsiveness": pl.Float64},
        )
        self.accounts = self.accounts.update(chosen, on="account_id")
        assigned = self.accounts.filter(~pl.col("account_id").is_in(list(self.unassigned)))
        self.mixes = behaviour.mixes(
            self.world, assigned["product"].to_list(), assigned["segment"].to_numpy()
        )

    def forget(self, n: int) -> None:
        """What reached debtors longer ago than any effect or fatigue window lasts is done."""
        self.deliveries = [d for d in self.deliveries if d["day"] > n - REMEMBERED_DAYS]

    def deliveries_frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.deliveries or None, schema=DELIVERIES, orient="row")

    def react(
        self, n: int, day: dt.date, sent: list[tuple[str, Outgoing]], report: DayReport
    ) -> None:
        """Debtors read what reached them and act through the real flows, all of a slot's actions
        in one transaction (`arrangement_offers.batch`), each in its own savepoint."""
        contact_ids = [int(m.metadata["contact_id"]) for _, m in sent]
        with self.sessions() as session:
            # The in-app messages stored since the last look (the app shows each message once).
            arrived = contact_repo.messages_after(session, self._seen_message)
            self._seen_message = max((m[0] for m in arrived), default=self._seen_message)
            inbox = [contact for _, contact, channel in arrived if channel == "in_app"]
            rows = contact_repo.sent_plans(session, contact_ids + inbox)
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
            report.segment_sent[(self.segment_name(account_id), channel)] += 1
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
            to = to_of.get(contact_id)
            if channel == "sms" and to:
                self.number[account_id] = to
            actions += self._respond(n, account_id, channel, to, report)
        self.act(n, day, actions, report)

    def segment_name(self, account_id: int) -> str:
        k = self.segment.get(account_id, len(self.world.segments))
        return self.world.segments[k].name if k < len(self.world.segments) else "-"

    def segment_sizes(self) -> dict[str, int]:
        """Accounts per segment (`-`: in none; `?`: not yet assigned)."""
        out: Counter[str] = Counter()
        for account_id in self.segment:
            out["?" if account_id in self.unassigned else self.segment_name(account_id)] += 1
        return dict(out)

    def _own(self, account_id: int) -> SegmentResponses | None:
        """The debtor's segment's own responses (None outside every segment)."""
        k = self.segment.get(account_id, len(self.world.segments))
        return self.world.segments[k].responses if k < len(self.world.segments) else None

    def _draw(self, account_id: int, n: int, salt: int, extra: int = 0) -> float:
        return uniform_one(self.seed, account_id * 131 + extra, n, salt)

    def _respond(
        self, n: int, account_id: int, channel: str, to: str | None, report: DayReport
    ) -> list[Action]:
        """What a debtor does on reading a message (drawn from the behaviour model)."""
        r = self.world.responses
        week = sum(self._reached[(account_id, d)] for d in range(n - 6, n + 1))
        own = self._own(account_id)
        fatigued = week > ((own and own.fatigue_threshold_7d) or r.fatigue_threshold_7d)
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
        opens = r.opens_link if own is None else own.opens(channel, r.opens_link)
        if self._draw(account_id, n, Salt.link) >= opens:
            return actions
        report.events["link_opened"] += 1
        promises = r.promises_online if own is None else own.promises_by_link(r.promises_online)
        choice = self._draw(account_id, n, Salt.link_choice)
        if choice < r.wants_plan:
            actions.append(Action("plan", account_id))
        elif choice < r.wants_plan + promises:
            actions.append(Action("promise", account_id))
        return actions

    def _call(
        self, n: int, account_id: int, contact_id: int, hour: int, report: DayReport
    ) -> list[Action]:
        """The debtor answers or not; the agent records how the call went (its wrap-up)."""
        calls = self.world.responses.calls
        own = self._own(account_id)
        answer_rate = answered_share(calls.answer_rate, own, hour)
        answered = self._draw(account_id, n, Salt.answer, self.clock.now().hour) < answer_rate
        when = "evening" if hour >= EVENING else "day"
        report.segment_calls[
            (self.segment_name(account_id), f"{when} {'answered' if answered else 'unanswered'}")
        ] += 1
        if not answered:
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
        promise_rate = calls.promise_rate if own is None else own.promises(calls.promise_rate)
        if self._draw(account_id, n, Salt.call_promise) < promise_rate:
            actions.append(Action("promise", account_id, channel="agent"))
        return actions

    def act(self, n: int, day: dt.date, actions: list[Action], report: DayReport) -> None:
        """The actions through the real flows, in one transaction."""
        if not actions:
            return
        arranging = {a.account_id for a in actions if a.kind in ("plan", "promise")}
        # The accounts the arrangements, cases and replies in words below touch: their bills and
        # open arrangements are read up front with the offers (the replies' answers count what
        # each owes), and the accounts in one query (held here: the session's identity map keeps
        # unchanged objects only while someone does).
        touched = {a.account_id for a in actions if a.kind in ARRANGED_OR_CASE}
        # The offers worked out up front: the arranging accounts', and for a debtor who may
        # write in words those of every account of theirs, since the assistant answers about
        # the customer's oldest open account, not always the one the text was about (else
        # worked out one account at a time when asked, at about the cost of the whole batch's).
        offered = set(arranging)
        for a in actions:
            if a.kind in WORDS and a.account_id in self.number:
                offered.update(self.held_with.get(a.account_id, ()))
        with (
            self.sessions.begin() as session,
            arrangement_offers.batch(session, offered, clock=self.clock, positions_of=touched),
        ):
            owed = delinquency_repo.amounts_owed(session, list(arranging))
            accounts = ledger_repo.AccountRepository(session).by_ids(touched) if touched else {}
            contact_flows.record_call_results(
                session,
                [(a.contact_id, a.reason) for a in actions if a.kind == "call_result"],
                actor="agent:sim",
                clock=self.clock,
            )
            for action in actions:
                if action.kind == "call_result":
                    # Recorded above, all together. (These once went on to `_arrange` too, each
                    # a savepoint, a read of the account and a refusal of the unknown kind.)
                    continue
                if self._in_words(
                    session, n, action, report, owed.get(action.account_id, (0, 0))[0]
                ):
                    continue
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
                    self._case(session, accounts, action)
                elif self._arrange(
                    session, accounts, action, day, *owed.get(action.account_id, (0, 0))
                ):
                    report.events[action.kind] += 1

    def _in_words(
        self, session: Session, n: int, action: Action, report: DayReport, overdue: int
    ) -> bool:
        """Some debtors a text reached write back in words (`Responses.replies_in_words`): a
        held-out line of the assistant's labelled set with the intent of what they do, from the
        number the text reached, through the SMS webhook's own road (the assistant reads it, acts
        through the same flows, answers or hands over). A debtor who asked for a promise or a plan
        the policy does not offer, and was offered the alternatives, answers them as the portal's
        debtors do: a promise of what is overdue in three days (`FOLLOW_UP`). True when the
        debtor wrote."""
        intent = WORDS.get(action.kind)
        number = self.number.get(action.account_id)
        rate = self.world.responses.replies_in_words
        if intent is None or not number or rate <= 0:
            return False
        which = list(WORDS).index(action.kind)
        if self._draw(action.account_id, n, Salt.words, which) >= rate:
            return False
        texts = self._lines(intent, self._language(action.account_id))
        if not texts:
            return False
        pick = self._draw(action.account_id, n, Salt.words_text, which)
        text = texts[min(int(pick * len(texts)), len(texts) - 1)]
        answer = self._write(session, n, action, number, text, action.kind)
        if answer is False:
            return False
        report.events["replied_in_words"] += 1
        if answer is not None:
            report.events[f"assistant:{answer.intent}"] += 1
        if (
            answer is not None
            and answer.action == assistant_flows.OFFERED_ALTERNATIVES
            and overdue > 0
            and (days := answer.promise_days or 0) > 0
        ):
            # The alternatives offered a promise within `days`: they take it up, in words.
            on = self.clock.now().astimezone(self.zone[action.account_id]).date()
            on += dt.timedelta(days=min(3, days))
            yuan = f"{overdue / 100:.2f}".removesuffix(".00")
            follow_up = FOLLOW_UP[self._language(action.account_id)].format(
                month=on.month, day=on.day, month_name=f"{on:%B}", amount=yuan
            )
            again = self._write(session, n, action, number, follow_up, "follow_up")
            if again:
                report.events["answered_alternatives"] += 1
                report.events[f"assistant:{again.intent}"] += 1
        return True

    def _write(
        self, session: Session, n: int, action: Action, number: str, text: str, what: str
    ) -> assistant_flows.Answer | Literal[False] | None:
        """One message in words through the SMS webhook's road, in a savepoint: the assistant's
        answer (None: none), or False when the message was refused."""
        try:
            with session.begin_nested():
                _, answer = assistant_flows.receive_sms(
                    session,
                    provider="simulation",
                    provider_id=(
                        f"sim-{self.seed}-{n}-{self.clock.now():%H%M}-{action.account_id}-{what}"
                    ),
                    from_number=number,
                    body=text,
                    region="CN",
                    clock=self.clock,
                    voice=SIM_VOICE,
                )
        except RecoupError:
            return False
        return answer

    def _language(self, account_id: int) -> str:
        return self.writes.get(account_id, "en")

    def _lines(self, intent: str, language: str) -> list[str]:
        """The labelled set's held-out `simulator` texts of `intent` in `language` (in the set's
        order: the same seed draws the same words)."""
        if self._texts is None:
            self._texts = {}
            for row in assistant_dataset.load():
                if row.split == "simulator" and row.message.language is not None:
                    key = (row.intent, row.message.language)
                    self._texts.setdefault(key, []).append(row.message.text)
        return self._texts.get((intent, language), [])

    def _arrange(
        self,
        session: Session,
        accounts: dict[int, Any],
        action: Action,
        day: dt.date,
        overdue: int,
        outstanding: int,
    ) -> bool:
        """A promise (what the morning's pass found overdue, in three days) or a plan (six
        instalments, a budget of what is owed), through the same flow as the portal, in a
        savepoint; False when the policy does not offer it to the account now or the terms fall
        outside the offer."""
        try:
            with session.begin_nested():
                account = accounts[action.account_id]
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

    def _case(self, session: Session, accounts: dict[int, Any], action: Action) -> None:
        account = accounts[action.account_id]
        case_flows.open_case(
            session,
            account.customer_id,
            kind=action.kind,
            reason=action.reason,
            text=None,
            account_ref=account.external_ref,
            opened_by="debtor",
            channel="portal",
            clock=self.clock,
        )

    def hardship(self, n: int, day: dt.date, report: DayReport) -> None:
        """Some debtors fall on hard times (for `HARDSHIP_DAYS`); some of them ask for help."""
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
        self.act(n, day, asking, report)

    def in_hardship(self, day: dt.date) -> set[int]:
        """The debtors on hard times on `day` (as drawn here)."""
        return {a for a, until in self.hardship_until.items() if until >= day}
