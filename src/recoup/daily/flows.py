"""The daily flow: everything a business day's run does, in order, in the caller's one
transaction, and never twice for the same day.

1. arrangements kept or broken by the money that has arrived (`arrangements.review`), their
   endings settled (`ledger.flows.settle_ended`);
   then autopay (`autopay.flows.collect_day`, when a wallet is given): the bills due under active
   mandates collected at the wallet, failed ones retried within the policy's limits, before the
   delinquency pass counts them late (one row per mandate, bill and attempt: a rerun asks
   nothing twice);
2. the delinquency pass over the portfolio (DPD, buckets, bucket changes);
3. scoring, when a risk model is active (`risk.service.score_day`: every open account owing
   scored with `p_pay` and `p_roll`, their reasons, the drift of features and scores; a drift
   past the alert threshold is logged and kept in the run's summary), so the strategy's facts
   `p_pay` and `p_roll` are the day's;
4. the strategy: decisions, contacts checked by the guard and planned, the agents' queues;
5. the policy queues' tasks left open from earlier days expired;
6. the calendars the rules use checked: one that does not know a day within 60 days is an alert,
   logged and returned (`compliance.calendars.expiring`);
7. the monthly partitions kept (PostgreSQL: `maintain_partitions`): the day's month and the next
   two made, the months past the longest record-keeping period dropped unless still held (logged
   and in the run's summary); late in the run, so the brief lock a new or dropped partition takes
   on its table is held only until the run commits;
8. the audit ledger's tail signed (`audit.service.checkpoint`): every run ends with the day's
   entries under a signed checkpoint (when a signing key is installed).

The day is claimed first (`daily_runs`, keyed by the business date): a second run of the day, from
the CLI, the scheduler or another process, finds it and does nothing; two at once on PostgreSQL
serialise on the key and the second does nothing. A run that fails rolls back with its claim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.arrangements import review as arrangement_review
from recoup.audit import service as audit_service
from recoup.autopay import flows as autopay_flows
from recoup.channels.wallet import WalletPaymentsAdapter
from recoup.compliance import Guard, calendars, deployment_guard
from recoup.config import get_settings
from recoup.contact import service as contact_service
from recoup.daily import repository as repo
from recoup.delinquency import service as delinquency_service
from recoup.kit import partitions as kit_partitions
from recoup.kit.clock import Clock
from recoup.kit.logging import get_logger
from recoup.ledger import flows as ledger_flows
from recoup.models import DailyRun
from recoup.privacy import service as privacy_service
from recoup.risk import service as risk_service
from recoup.strategy import service as strategy_service

Progress = Callable[[str], None]
Timer = Callable[[str], AbstractContextManager[object]]
log = get_logger(__name__)


@dataclass
class DayRun:
    day: dt.date
    ran: bool  # False: the day had run already (`previous` says when)
    previous: DailyRun | None = None
    review: arrangement_review.Review | None = None
    autopay: autopay_flows.CollectionRun | None = None
    delinquency: delinquency_service.RunSummary | None = None
    scoring: risk_service.ScoreDay | None = None
    strategy: strategy_service.StrategyRun | None = None
    no_policy: str | None = None  # why the strategy did not run
    tasks_expired: int = 0
    calendar_alerts: list[calendars.Alert] = field(default_factory=list)
    partitions: kit_partitions.Maintenance | None = None
    timings: dict[str, float] | None = None


def today(clock: Clock, zone: dt.tzinfo) -> dt.date:
    """The business day it is now in the business zone."""
    return clock.now().astimezone(zone).date()


def run_day(
    session: Session,
    day: dt.date,
    *,
    clock: Clock,
    zone: str,
    actor: str,
    progress: Progress | None = None,
    timer: Timer | None = None,
    wallet: WalletPaymentsAdapter | None = None,
    engine: str = "local",
    read_ahead: bool = False,
    guard: Guard | None = None,
) -> DayRun:
    """Run the business day `day` (see the module). `timer(step)`, when given, is a context
    manager around each step (the simulator times them). `wallet`: where autopay collects
    (none: no collection today; the mandates wait for the next run that has one). `engine`:
    where the scores and the strategy's decisions are computed ("local" or "spark",
    `risk_service.score_day` and `strategy_service.plan`). `read_ahead`: the scoring begun at
    the start on a connection of its own (`risk_service.read_ahead`; PostgreSQL, a model
    active, the local engine), for a caller whose transaction begins with this run (the CLI's).
    `guard`: the compliance guard of the whole run (none: the deployment's, the shipped packs
    under the configured house policy), built before the day is claimed, so a house file that
    cannot be read or is invalid stops the run at start (`HouseFileError`, naming the file)."""
    guard = guard or deployment_guard(get_settings().compliance_house_file)
    step = progress or (lambda _msg: None)
    previous = repo.get(session, day)
    if previous is not None:
        return DayRun(day, ran=False, previous=previous)
    run = DailyRun(business_date=day, timezone=zone, actor=actor, started_at=clock.now())
    try:
        with session.begin_nested():
            repo.claim(session, run)
    except IntegrityError:
        return DayRun(day, ran=False, previous=repo.get(session, day))
    result = DayRun(day, ran=True)
    ahead = (
        risk_service.read_ahead(session, day) if read_ahead and engine == "local" else nullcontext()
    )
    with ahead as early:
        with _timed(timer, "arrangements review"):
            step("arrangements kept and broken")
            result.review = arrangement_review.review(session, clock=clock, as_of=day)
            ledger_flows.settle_ended(session, result.review, clock=clock)
        if wallet is not None:
            with _timed(timer, "autopay"):
                step("autopay collections")
                result.autopay = autopay_flows.collect_day(session, day, wallet=wallet, clock=clock)
        with _timed(timer, "delinquency pass"):
            result.delinquency = delinquency_service.run_daily(
                session, day, clock=clock, progress=lambda msg: step(msg)
            )
        with _timed(timer, "scoring"):
            step("scoring the accounts owing")
            result.scoring = risk_service.score_day(
                session,
                day,
                clock=clock,
                engine=engine,
                early=early,
                changed=_changed(result),
                moved=_moved(result),
            )
    with _timed(timer, "strategy run"):
        step("deciding and planning contacts")
        try:
            result.strategy = strategy_service.run(
                session,
                day,
                clock=clock,
                actor=actor,
                engine=engine,
                states=result.delinquency.states,  # the states just written, not read back
                guard=guard,
            )
        except strategy_service.NoActivePolicy as exc:
            result.no_policy = exc.message
    result.delinquency = replace(result.delinquency, states=None)  # a frame of every account
    result.tasks_expired = agents_service.expire_stale(session, day, now=clock.now())
    result.calendar_alerts = calendars.expiring(guard, day)
    for alert in result.calendar_alerts:
        log.warning(
            "daily.calendar_running_out",
            country=alert.country,
            calendar=alert.what,
            first_unknown=alert.first_unknown.isoformat(),
            days_left=alert.days_left,
            rules=list(alert.rules),
        )
    with _timed(timer, "partitions"):
        result.partitions = maintain_partitions(session, day)
    run.finished_at = clock.now()
    run.summary = _summary(result)
    session.flush()
    if audit_service.signing():
        audit_service.checkpoint(session, clock=clock)
    log.info("daily.run_finished", day=day.isoformat(), **run.summary)
    return result


def _changed(result: DayRun) -> set[int]:
    """The accounts the run's steps before the scoring wrote for (what the scoring begun before
    them missed, `risk_service.ReadAhead`), but for the delinquency pass's: the arrangements
    reviewed (kept, broken, ended and settled), the accounts autopay asked to pay."""
    out: set[int] = set()
    if result.review is not None:
        out |= result.review.accounts
    if result.autopay is not None:
        out |= result.autopay.accounts
    return out


def _moved(result: DayRun) -> set[int]:
    """The accounts whose bucket the delinquency pass moved: of what the features read, the pass
    writes only their bucket changes (its states are not read)."""
    if result.delinquency is None or result.delinquency.moved is None:
        return set()
    return set(result.delinquency.moved.to_list())


def run_of(session: Session, day: dt.date) -> DailyRun | None:
    """The day's run, when it has run (or is running)."""
    return repo.get(session, day)


def retention_years() -> int:
    """The longest record-keeping period any jurisdiction asks for (`privacy.service.RETENTION`):
    a month of the portfolio's records mixes every jurisdiction's debtors."""
    periods = [*privacy_service.RETENTION.values(), privacy_service.DEFAULT_RETENTION]
    return max(years for years, _ in periods)


def maintain_partitions(
    session: Session, day: dt.date, *, dry_run: bool = False
) -> kit_partitions.Maintenance:
    """Each owner's monthly partitions kept for `day` (nothing on SQLite): contact plans and
    events (`contact.service`), decisions (`strategy.service`), scores (`risk.service`).
    `dry_run`: what would be done."""
    years = retention_years()
    out = kit_partitions.Maintenance()
    for part in (
        contact_service.maintain_partitions(session, day, years=years, dry_run=dry_run),
        strategy_service.maintain_partitions(session, day, years=years, dry_run=dry_run),
        risk_service.maintain_partitions(session, day, years=years, dry_run=dry_run),
    ):
        out.actions.extend(part.actions)
        out.skipped = out.skipped or part.skipped
    return out


def _summary(result: DayRun) -> dict[str, object]:
    out: dict[str, object] = {"tasks_expired": result.tasks_expired}
    if result.calendar_alerts:
        out["calendar_alerts"] = [a.message() for a in result.calendar_alerts]
    if result.partitions is not None:
        out.update(result.partitions.summary())
    if result.review is not None:
        out.update(
            arrangements_reviewed=result.review.reviewed,
            kept=result.review.kept,
            broken=result.review.broken,
        )
    if result.autopay is not None:
        out.update(result.autopay.summary())
    if result.delinquency is not None:
        out.update(
            accounts=result.delinquency.accounts,
            states_changed=result.delinquency.changed,
            bucket_changes=result.delinquency.bucket_changes,
        )
    if result.scoring is not None:
        out.update(result.scoring.summary())
    if result.strategy is not None:
        out.update(
            decided=result.strategy.accounts,
            planned=result.strategy.contacts_planned,
            deferred=result.strategy.contacts_deferred,
            blocked=result.strategy.contacts_blocked,
            agent_tasks=result.strategy.agent_tasks,
        )
    return out


def _timed(timer: Timer | None, name: str) -> AbstractContextManager[object]:
    return timer(name) if timer is not None else nullcontext()
