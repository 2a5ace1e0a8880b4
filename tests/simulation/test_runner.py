"""The simulator drives the real engine: a small world for a few days, the same seed twice, and two
policies on one world that differ only where the policy made a difference."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.arrangements import offers as arrangement_offers
from recoup.audit.contacts import audit_contacts
from recoup.bootstrap import init_database
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.clock import SettableClock
from recoup.kit.db import make_engine, make_sessionmaker
from recoup.models import ContactPlan, Conversation, ConversationTurn, Payment
from recoup.simulation.debtors import Debtors
from recoup.simulation.runner import Simulation, SimulationResult, local
from recoup.simulation.world import Portfolio, Responses, Wallet, World
from recoup.strategy import service as strategy_service
from tests.conftest import MASTER
from tests.strategy.test_daily_run import policy_text

# Each run builds a database of its own on SQLite: once, on the SQLite pass.
pytestmark = pytest.mark.pure
START = dt.date(2026, 6, 1)


def simulate(
    tmp_path: Path,
    name: str,
    *,
    policy: str | None = None,
    days: int = 5,
    accounts: int = 300,
    wallet: Wallet | None = None,
    responses: Responses | None = None,
) -> tuple[SimulationResult, sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}.db'}")
    clock = SettableClock(local(START - dt.timedelta(days=1), 23))
    init_database(engine, clock=clock, master=MASTER)
    sessions = make_sessionmaker(engine)
    world = World(
        portfolio=Portfolio(accounts=accounts), wallet=wallet, responses=responses or Responses()
    )
    simulation = Simulation(
        sessions, clock, world, seed=11, start=START, config=DispatchConfig(worker="sim")
    )
    simulation.load_portfolio(days=days, policy_text=policy or policy_text(), policy_source=name)
    return simulation.run(days), sessions


def audit_clean(sessions: sessionmaker[Session]) -> int:
    """The independent audit of what was sent finds nothing; returns how many it checked."""
    with sessions() as session:
        audit = audit_contacts(session)
    assert [b.to_json() for b in audit.breaches] == []
    return audit.contacts


def payments(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(
            select(Payment.external_id, Payment.amount_minor).where(
                Payment.external_id.like("sim-%")
            )
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_a_small_world_runs_through_the_real_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Which actions went on to the arrangement flow (each one a savepoint, a read and a flow).
    arranged: Counter[str] = Counter()
    through = Debtors._arrange

    def counting(self: Debtors, session: Session, *args: Any) -> bool:
        arranged[args[1].kind] += 1
        return through(self, session, *args)

    monkeypatch.setattr(Debtors, "_arrange", counting)
    result, sessions = simulate(tmp_path, "small")
    assert len(result.days) == 5
    assert sum(d.payments for d in result.days) > 0
    assert result.collected["CNY"] > 0
    assert sum(result.sent.values()) > 0
    with sessions() as session:
        recorded = dict(
            session.execute(
                select(ContactPlan.channel, func.count())
                .where(
                    ContactPlan.status.in_(("sent", "delivered")),
                    ContactPlan.purpose == "collection",
                    ContactPlan.channel != "call",  # a task in the agents' queue; "dial" rings
                )
                .group_by(ContactPlan.channel)
            ).all()
        )
        results = Counter(
            session.execute(
                select(ContactPlan.result).where(
                    ContactPlan.channel == "dial", ContactPlan.status == "sent"
                )
            ).scalars()
        )
    # Every message the debtors received is one the outbox recorded as sent, and the other way.
    assert recorded == dict(result.sent)
    assert audit_clean(sessions) >= sum(recorded.values())
    # The agents record how each call went: the answered ones were conversations, the others
    # ended as the world's shares say.
    events: Counter[str] = Counter()
    for day in result.days:
        events.update(day.events)
    assert events["call_answered"] > 0
    assert results.pop("conversation") == events["call_answered"]
    assert set(results) <= set(World().responses.calls.unanswered)
    assert results.total() == events["call_unanswered"]
    # Only promises and plans reach the arrangement flow; a call's result is recorded with the
    # batch's (`contact.flows.record_call_results`) and goes no further. Without the skip of call
    # results in `Debtors.act`, each of them went on to `_arrange`, to be refused there: this fails.
    assert arranged
    assert set(arranged) <= {"promise", "plan"}


def test_the_same_seed_gives_the_same_run(tmp_path: Path) -> None:
    """Debtors who reply in words included: the same words drawn, the same conversations. Without
    the simulator's call to the assistant's road no conversation is recorded: this fails."""
    talkative = Responses(opens_link=0.5, replies_in_words=0.5)
    first, one = simulate(tmp_path, "one", days=3, responses=talkative)
    second, two = simulate(tmp_path, "two", days=3, responses=talkative)
    assert [(d.payments, dict(d.collected), dict(d.sent), dict(d.events)) for d in first.days] == [
        (d.payments, dict(d.collected), dict(d.sent), dict(d.events)) for d in second.days
    ]
    # Debtors' words reached the assistant through the SMS webhook's road (`Debtors._in_words`):
    # conversations recorded, counted by what it understood, and the run's figures are theirs.
    assert first.total("replied_in_words") > 0
    assert any(e.startswith("assistant:") for d in first.days for e in d.events)
    with one() as session:
        conversations = session.execute(select(func.count()).select_from(Conversation)).scalar()
    assert first.assistant is not None
    assert first.assistant.conversations == conversations > 0
    k = first.assistant
    assert k.resolved_without_person + k.handed_over <= k.conversations
    assert first.assistant == second.assistant
    assert payments(one) == payments(two)
    assert contact_ids(one) == contact_ids(two)
    audit_clean(one)


def contact_ids(sessions: sessionmaker[Session]) -> list[tuple[int, int, str, str | None, str]]:
    """(id, account, day, treatment, status) of every contact: the same seed numbers the same
    contacts alike, so a seeded demo's "contact 61509" is the same contact on every machine.
    Catches removing the sort by key in `contact.repository.insert_plans` (polars hands the
    day's plans over in an order that varies between runs)."""
    with sessions() as session:
        rows = session.execute(
            select(
                ContactPlan.id,
                ContactPlan.account_id,
                ContactPlan.as_of_date,
                ContactPlan.treatment,
                ContactPlan.status,
            ).order_by(ContactPlan.id)
        )
        return [(i, a, str(d), t, st) for i, a, d, t, st in rows]


def histories(sessions: sessionmaker[Session]) -> dict[int, list[tuple[str, str, str]]]:
    """Per account, what reached it: (day, channel, tone) of every contact sent."""
    out: dict[int, list[tuple[str, str, str]]] = {}
    with sessions() as session:
        for account_id, day, channel, tone in session.execute(
            select(
                ContactPlan.account_id,
                ContactPlan.as_of_date,
                ContactPlan.channel,
                ContactPlan.tone,
            )
            .where(ContactPlan.status.in_(("sent", "delivered")))
            .order_by(ContactPlan.account_id, ContactPlan.as_of_date, ContactPlan.channel)
        ):
            out.setdefault(account_id, []).append((str(day), channel, tone))
    return out


def test_two_policies_on_one_world_differ_only_by_policy(tmp_path: Path) -> None:
    text = policy_text()
    no_pre_due_push = text.replace("days_to_due == 3", "days_to_due == 99", 1)
    assert no_pre_due_push != text
    first, a = simulate(tmp_path, "with", policy=text, days=3, accounts=800)
    second, b = simulate(tmp_path, "without", policy=no_pre_due_push, days=3, accounts=800)
    assert first.sent["push"] > second.sent["push"]
    seen_a, seen_b = histories(a), histories(b)
    paid_a, paid_b = payments(a), payments(b)
    accounts = {int(k.rsplit("-", 1)[1]) for k in (*paid_a, *paid_b)}
    same = {x for x in accounts if seen_a.get(x, []) == seen_b.get(x, [])}

    def of(paid: dict[str, int], chosen: set[int]) -> dict[str, int]:
        return {k: v for k, v in paid.items() if int(k.rsplit("-", 1)[1]) in chosen}

    # Where the two policies reached a debtor alike, the debtor did exactly the same.
    assert of(paid_a, same) == of(paid_b, same)
    assert len(of(paid_a, same)) >= 20
    audit_clean(a)
    audit_clean(b)
    assert len(same) < len(accounts) or paid_a == paid_b


def test_when_wallets_run_dry_less_is_paid_and_more_of_it_in_part(tmp_path: Path) -> None:
    plenty, _ = simulate(tmp_path, "plenty", days=4, wallet=Wallet(income_minor=10_000_000))
    dry, sessions = simulate(tmp_path, "dry", days=4, wallet=Wallet(income_minor=3_000))
    assert sum(dry.collected.values()) < sum(plenty.collected.values())
    assert dry.total("partial") > plenty.total("partial")
    audit_clean(sessions)


def test_debtors_take_up_the_promise_the_assistants_alternatives_offer(tmp_path: Path) -> None:
    """A debtor who asks in words for a promise past the policy's days is offered the
    alternatives; when they include a promise, the debtor answers with one within them, which
    the assistant makes and the conversation resolves. Catches `Debtors._in_words` no longer
    answering the alternatives (the conversation would stay open with no promise) or the
    assistant's `Answer` losing the days it offered."""
    talkative = Responses(opens_link=0.5, replies_in_words=1.0)
    result, sessions = simulate(tmp_path, "words", days=10, accounts=2000, responses=talkative)
    answered = result.total("answered_alternatives")
    assert answered > 0
    with sessions() as session:
        taken_up = session.execute(
            select(func.count())
            .select_from(ConversationTurn)
            .where(ConversationTurn.action.like("promise:%"))
            .where(
                ConversationTurn.conversation_id.in_(
                    select(ConversationTurn.conversation_id).where(
                        ConversationTurn.action == "offered_alternatives"
                    )
                )
            )
        ).scalar()
    # Each answer made its promise (a conversation may hold another, from a later message).
    assert taken_up >= answered


def test_the_offers_a_reply_in_words_asks_for_are_worked_out_with_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The assistant answers about the customer's oldest open account, which is not always the
    account the debtor's text was about: the batch works out the offers of every account of a
    debtor who may write in words up front, so none is worked out on its own in a batch unless
    the batch changed it (its re-decision noted). Without the customer's other accounts in
    `Debtors.act`'s batch, the answers about them each worked out their offers alone: this
    fails."""
    alone: list[int] = []
    through = strategy_service.offers

    def counting(session: Session, account_id: int, **kwargs: Any) -> Any:
        in_batch = session.info.get(arrangement_offers.OFFERED) is not None
        if in_batch and not strategy_service.redecision_pending(session, account_id):
            alone.append(account_id)
        return through(session, account_id, **kwargs)

    monkeypatch.setattr(strategy_service, "offers", counting)
    talkative = Responses(opens_link=0.5, replies_in_words=1.0)
    result, _ = simulate(tmp_path, "asked", days=4, accounts=1000, responses=talkative)
    assert result.total("replied_in_words") > 0
    assert result.total("assistant:promise_to_pay") > 0
    assert alone == []
