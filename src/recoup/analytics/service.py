"""Analytics over a period of business days [from, to], for real and simulated runs alike.

Every figure comes from a handful of grouped, set-based reads (`repository.py`) and the pure
statistics in `stats.py`: nothing loops over accounts in Python. Services only read.

Definitions (docs/analytics.md gives them in full):

- recovery: money applied to bills while they were overdue, in the period, over what was
  overdue at its start plus what fell overdue during it (each bill's remainder when it did);
- reach: an attempt (a contact a channel accepted: sent, delivered or bounced; a place in the
  agents' queue is none, the agent's call is) that was delivered to the debtor's own device or
  inbox, or a call whose recorded result is a conversation; a message only known to be *sent*
  does not count; the right-party contact rate is the calls' reach: conversations / calls placed;
- promises kept: kept / (kept + broken) among promises that ended in the period;
- complaints and opt-outs: recorded in the period, per 1,000 attempts.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import polars as pl
import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from recoup.analytics import repository as repo
from recoup.analytics import schemas, stats
from recoup.compliance import deployment_guard
from recoup.compliance.packs import HoursRule
from recoup.compliance.vocabulary import jurisdiction_zones
from recoup.config import get_settings
from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.models.contact import QUEUE_ENTRY

DEFAULT_DAYS = 30
DEFAULT_ZONE = "Asia/Shanghai"
LONGEST_PERIOD = dt.timedelta(days=3660)


class BadPeriod(ValidationFailed):
    code = "bad_period"
    description = "The period is not valid"


class BadScope(ValidationFailed):
    code = "bad_scope"
    description = "No such product or segment to filter by"


ALL = schemas.Scope()


def choices(session: Session, p: schemas.Period) -> tuple[list[str], list[str]]:
    """What the figures of a period may be filtered by: the products' codes, and the segments
    the strategy decided accounts in during the period."""
    return repo.product_codes(session), repo.segments(session, p.from_date, p.to_date)


def scope(session: Session, product: str | None, segment: str | None) -> schemas.Scope:
    """The accounts asked for, checked: a product that exists, a segment the strategy has decided
    accounts in. Blank means all."""
    product, segment = (product or "").strip() or None, (segment or "").strip() or None
    if product is not None and (len(product) > 32 or product not in repo.product_codes(session)):
        raise BadScope(f"product: no product {product[:32]!r}")
    if segment is not None and (len(segment) > 64 or not repo.segment_exists(session, segment)):
        raise BadScope(f"segment: no account was decided in a segment {segment[:64]!r}")
    return schemas.Scope(product=product, segment=segment)


def _accounts(s: schemas.Scope, p: schemas.Period) -> repo.Accounts:
    return repo.scoped_accounts(s.product, s.segment, p.to_date)


def period(
    session: Session,
    from_: dt.date | None,
    to: dt.date | None,
    *,
    clock: Clock,
    zone: str = DEFAULT_ZONE,
) -> schemas.Period:
    """The period asked for, with defaults: up to the last day the delinquency pass computed (today
    when it never ran), over the 30 days before that. A start after the end is refused."""
    if to is None:
        to = (
            repo.last_business_day(session)
            or clock.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
        )
        if from_ is not None and from_ > to:
            to = from_
    if from_ is None:
        from_ = to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if from_ > to:
        raise BadPeriod(f"the period starts ({from_}) after it ends ({to})")
    if to - from_ > LONGEST_PERIOD:
        raise BadPeriod(f"the period {from_} to {to} is longer than ten years")
    return schemas.Period(from_date=from_, to_date=to)


def load_costs(path: Path | None = None) -> schemas.Costs:
    """Costs from a YAML file of the shipped `costs.yaml`'s shape, or the shipped defaults."""
    try:
        if path is None:
            text = (resources.files("recoup.analytics") / "costs.yaml").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        return schemas.Costs.model_validate(yaml.safe_load(text) or {})
    except OSError as exc:
        raise ValidationFailed(f"{path}: {exc.strerror}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValidationFailed(f"{path or 'costs.yaml'} is not a costs file: {exc}") from exc


# -- targets -------------------------------------------------------------------------------------

# The KPIs a target may name (besides `cure.<bucket>`), in the order the dashboard shows them.
TARGET_KPIS = (
    "recovery_rate",
    "recovery_count_rate",
    "reach_rate",
    "right_party_rate",
    "promises_kept",
    "cost_per_unit_collected",
    "complaints_per_1000",
    "opt_outs_per_1000",
)
_CURE = re.compile(r"^cure\.[A-Za-z0-9+_-]{1,16}$")


def load_targets(path: Path | None = None) -> schemas.Targets:
    """Targets from a YAML file of the shipped `targets.yaml`'s shape, or the shipped defaults. A
    KPI the dashboard does not know is refused, so a typo does not silently drop a target."""
    name = str(path) if path is not None else "targets.yaml"
    try:
        if path is None:
            text = (resources.files("recoup.analytics") / "targets.yaml").read_text(
                encoding="utf-8"
            )
        else:
            text = path.read_text(encoding="utf-8")
        targets = schemas.Targets.model_validate(yaml.safe_load(text) or {})
    except OSError as exc:
        raise ValidationFailed(f"{name}: {exc.strerror}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValidationFailed(f"{name} is not a targets file: {exc}") from exc
    unknown = sorted(k for k in targets.targets if k not in TARGET_KPIS and not _CURE.match(k))
    if unknown:
        raise ValidationFailed(
            f"{name}: unknown KPI(s) {', '.join(unknown)}; known: {', '.join(TARGET_KPIS)}, "
            "cure.<bucket>"
        )
    return targets


def kpi_values(k: schemas.Kpis) -> dict[str, float | None]:
    """Each KPI a target may name, from the KPIs of a period (recovery: the currency with the
    largest base, the first row)."""
    first = k.recovery[0] if k.recovery else None
    values: dict[str, float | None] = {
        "recovery_rate": first.rate_amount if first else None,
        "recovery_count_rate": first.rate_count if first else None,
        "reach_rate": _rate(k.reached, k.attempts),
        "right_party_rate": k.right_party_rate,
        "promises_kept": k.promises.rate,
        "cost_per_unit_collected": k.costs.per_unit_collected,
        "complaints_per_1000": k.complaints_per_1000,
        "opt_outs_per_1000": k.opt_outs_per_1000,
    }
    values.update({f"cure.{c.bucket}": c.rate for c in k.cure})
    return values


def readings(k: schemas.Kpis, targets: schemas.Targets) -> list[schemas.Reading]:
    """Every KPI with its target and whether it was met (None: no target, or no value to judge)."""
    values = kpi_values(k)
    names = [*TARGET_KPIS, *(n for n in values if n not in TARGET_KPIS)]
    names += [n for n in targets.targets if n not in names]  # a target for a bucket not seen
    out = []
    for name in names:
        value, target = values.get(name), targets.targets.get(name)
        met = None
        if target is not None and value is not None:
            met = (
                value >= target.at_least
                if target.at_least is not None
                else value <= (target.at_most or 0.0)
            )
        out.append(schemas.Reading(kpi=name, value=value, target=target, met=met))
    return out


# -- recovery ------------------------------------------------------------------------------------


def _per_account(
    session: Session, p: schemas.Period, *, experiments: bool, within: repo.Accounts = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Recovery per account (and per experiment arm), and the daily collections behind it."""
    units = repo.experiment_units(p.from_date, p.to_date, within) if experiments else None
    keys = ["experiment", "arm", "start_date"] if experiments else []
    bills = repo.overdue_bills(session, p.from_date, p.to_date, units, within)
    adjusted = repo.later_adjustments(session, p.from_date, p.to_date, units, within)
    bills = (
        bills.join(adjusted, on=[*keys, "bill_id"], how="left")
        .with_columns(
            (pl.col("amount_minor") - pl.col("adjusted_minor").fill_null(0)).alias("amount_minor")
        )
        .drop("adjusted_minor")
    )
    collected = repo.collections(session, p.from_date, p.to_date, units, within)
    return stats.account_recovery(bills, collected, keys), collected


def _recovery(
    session: Session, p: schemas.Period, accounts: pl.DataFrame, within: repo.Accounts = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    per_account, collected = _per_account(session, p, experiments=False, within=within)
    per_account = per_account.join(
        accounts.select("account_id", "currency"), on="account_id", how="left"
    ).with_columns(pl.col("currency").fill_null("XXX"))
    return stats.recovery_by_currency(per_account), per_account, collected


def recovery(
    session: Session, p: schemas.Period, *, scope: schemas.Scope = ALL
) -> list[schemas.CurrencyRecovery]:
    """Recovery by currency over the period, as the KPIs count it (`report_data`): the one
    definition `recoup report`, report.html, the dashboard and the simulator's summary show."""
    within = _accounts(scope, p)
    by_currency, _, _ = _recovery(session, p, repo.observed_accounts(session, within), within)
    return [schemas.CurrencyRecovery(**row) for row in by_currency.iter_rows(named=True)]


def _rate(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


# -- contacts ------------------------------------------------------------------------------------


def _reach(
    session: Session, p: schemas.Period, counts: pl.DataFrame, within: repo.Accounts = None
) -> pl.DataFrame:
    """channel, attempts, reached."""
    answered = repo.conversations(session, p.from_date, p.to_date, within)
    by_channel = (
        counts.filter(pl.col("channel") != QUEUE_ENTRY)
        .group_by("channel")
        .agg(
            pl.col("contacts")
            .filter(pl.col("status").is_in(repo.ATTEMPTED))
            .sum()
            .alias("attempts"),
            pl.col("contacts").filter(pl.col("status") == "delivered").sum().alias("delivered"),
        )
    )
    return (
        by_channel.join(answered, on="channel", how="left")
        .select(
            "channel",
            pl.col("attempts").cast(pl.Int64),
            (pl.col("delivered") + pl.col("contacts").fill_null(0)).cast(pl.Int64).alias("reached"),
        )
        .filter(pl.col("attempts") > 0)
        .sort("channel")
    )


def _local_hours(
    session: Session, p: schemas.Period, within: repo.Accounts = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(hour, contacts) of attempts in the debtor's local time (the first of the customer's zones,
    else the jurisdiction's), and (jurisdiction, contacts)."""
    sent = repo.sent_moments(session, p.from_date, p.to_date, within)
    hours = pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int64})
    if sent.height == 0:
        empty = pl.DataFrame(schema={"jurisdiction": pl.String, "contacts": pl.Int64})
        return hours.with_columns(contacts=pl.lit(0, pl.Int64)), empty
    jurisdictions = sent["jurisdiction"].unique().to_list()
    fallback = pl.DataFrame(
        {
            "jurisdiction": jurisdictions,
            "_fallback": [jurisdiction_zones(j)[0] for j in jurisdictions],
        }
    )
    sent = sent.join(fallback, on="jurisdiction", how="left").with_columns(
        pl.coalesce(
            pl.col("zones").str.json_decode(pl.List(pl.String)).list.first(),
            pl.col("_fallback"),
        ).alias("zone")
    )
    # One conversion per distinct zone (a handful), not per contact.
    local = [
        part.select(
            pl.col("sent_at").dt.convert_time_zone(str(zone)).dt.hour().cast(pl.Int64).alias("hour")
        )
        for (zone,), part in sent.partition_by("zone", as_dict=True).items()
    ]
    counts = pl.concat(local).group_by("hour").agg(pl.len().cast(pl.Int64).alias("contacts"))
    by_hour = hours.join(counts, on="hour", how="left").with_columns(
        pl.col("contacts").fill_null(0)
    )
    by_jurisdiction = (
        sent.group_by("jurisdiction")
        .agg(pl.len().cast(pl.Int64).alias("contacts"))
        .sort("contacts", descending=True)
    )
    return by_hour.sort("hour"), by_jurisdiction


def allowed_window(jurisdiction: str, channel: str = "sms") -> tuple[int, int]:
    """The local hours the rule packs, under the deployment's house policy, allow a first-party
    collector to contact a debtor of the jurisdiction on a plain weekday: the intersection of the
    applicable hours rules' windows."""
    start, end = 0, 24 * 60
    for rule in deployment_guard(get_settings().compliance_house_file).rules_for(
        jurisdiction, "creditor"
    ):
        if isinstance(rule, HoursRule) and channel in rule.channels and "debtor" in rule.parties:
            start, end = max(start, rule.window.start), min(end, rule.window.end)
    return start, max(start, end)


def _held(
    session: Session, p: schemas.Period, within: repo.Accounts = None
) -> list[schemas.HeldReason]:
    grouped = repo.held_contacts(session, p.from_date, p.to_date, within)
    if grouped.height == 0:
        return []
    exploded = (
        grouped.with_columns(
            pl.col("reasons").fill_null("[]").str.json_decode(pl.List(pl.String)).fill_null([])
        )
        .with_columns(
            pl.when(pl.col("reasons").list.len() == 0)
            .then(pl.lit(["unstated"]))
            .otherwise(pl.col("reasons"))
            .alias("reasons")
        )
        .explode("reasons")
        .with_columns(pl.col("reasons").str.split(":").list.first().str.strip_chars())
        .group_by("status", "reasons")
        .agg(pl.col("contacts").sum())
        .sort("contacts", "status", "reasons", descending=[True, False, False])
    )
    return [schemas.HeldReason(status=s, reason=r, contacts=n) for s, r, n in exploded.iter_rows()]


def held_over_time(
    session: Session, p: schemas.Period, *, by: str = "day"
) -> list[schemas.HeldOverTime]:
    """Blocked and deferred contacts per day (or week, from Monday), rule and reason code: a
    contact held for two reasons counts under each."""
    if by not in ("day", "week"):
        raise ValidationFailed("by: day or week")
    grouped = repo.held_contacts_by_day(session, p.from_date, p.to_date)
    if grouped.height == 0:
        return []
    start = pl.col("as_of_date")
    if by == "week":
        start = start - pl.duration(days=start.dt.weekday() - 1)
    exploded = (
        grouped.with_columns(
            pl.col("reasons").fill_null("[]").str.json_decode(pl.List(pl.String)).fill_null([])
        )
        .with_columns(
            pl.when(pl.col("reasons").list.len() == 0)
            .then(pl.lit(["unstated"]))
            .otherwise(pl.col("reasons"))
            .alias("reasons"),
            start.alias("period_start"),
        )
        .explode("reasons")
        .with_columns(
            pl.col("reasons").str.split(":").list.first().str.strip_chars().alias("rule"),
            pl.col("reasons")
            .str.split(":")
            .list.get(1, null_on_oob=True)
            .fill_null("")
            .alias("code"),
        )
        .group_by("period_start", "status", "rule", "code")
        .agg(pl.col("contacts").sum())
        .sort(["period_start", "contacts", "rule"], descending=[False, True, False])
    )
    return [
        schemas.HeldOverTime(period_start=d, status=s, rule=r, code=c.strip(), contacts=n)
        for d, s, r, c, n in exploded.select(
            "period_start", "status", "rule", "code", "contacts"
        ).iter_rows()
    ]


# -- the KPIs --------------------------------------------------------------------------------------


def kpis(
    session: Session,
    p: schemas.Period,
    *,
    costs: schemas.Costs | None = None,
    zone: str = DEFAULT_ZONE,
    scope: schemas.Scope = ALL,
) -> schemas.Kpis:
    return report_data(session, p, costs=costs, zone=zone, scope=scope).kpis


@dataclass(frozen=True)
class ReportData:
    """Everything the report draws: the KPIs, roll rates, experiments and recovery curves
    (`curves`: experiment, arm, day, rate; the whole portfolio as experiment "" and arm "all")."""

    kpis: schemas.Kpis
    roll_rates: schemas.RollRates
    experiments: schemas.Experiments
    curves: pl.DataFrame


def report_data(
    session: Session,
    p: schemas.Period,
    *,
    costs: schemas.Costs | None = None,
    zone: str = DEFAULT_ZONE,
    with_rolls: bool = False,
    scope: schemas.Scope = ALL,
) -> ReportData:
    """Every figure of the period, over the accounts of `scope` (all by default)."""
    costs = costs or load_costs()
    within = _accounts(scope, p)
    accounts = repo.observed_accounts(session, within)
    recovery, per_account, collected = _recovery(session, p, accounts, within)
    events = repo.bucket_events(session, p.to_date, within)
    cure = stats.cure_counts(events, accounts, p.from_date, p.to_date)

    counts = repo.contacts_by_status(session, p.from_date, p.to_date, within)
    reach = _reach(session, p, counts, within)
    attempts, reached = int(reach["attempts"].sum()), int(reach["reached"].sum())
    dials = reach.filter(pl.col("channel") == "dial")
    calls, talks = (int(dials["attempts"].sum()), int(dials["reached"].sum()))

    promise_counts = dict(repo.promises(session, p.from_date, p.to_date, within).iter_rows())
    kept, broken = int(promise_counts.get("kept", 0)), int(promise_counts.get("broken", 0))

    tz = zoneinfo.ZoneInfo(zone)
    start_at = dt.datetime.combine(p.from_date, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    end_at = dt.datetime.combine(
        p.to_date + dt.timedelta(days=1), dt.time(0), tzinfo=tz
    ).astimezone(dt.UTC)
    complaints = repo.complaints(session, start_at, end_at, within)
    opt_outs = repo.opt_outs(session, start_at, end_at, within)

    tasks = repo.agent_tasks(session, p.from_date, p.to_date, within).sort("queue", "status")
    task_total = int(tasks["tasks"].sum()) if tasks.height else 0
    contact_cost = sum(
        costs.per_contact_minor.get(channel, 0) * n for channel, n, _ in reach.iter_rows()
    )
    agent_cost = costs.per_agent_task_minor * task_total
    in_currency = recovery.filter(pl.col("currency") == costs.currency)
    collected_in = int(in_currency["collected_minor"].sum()) if in_currency.height else 0

    hours, by_jurisdiction = _local_hours(session, p, within)
    windows = [
        schemas.AllowedWindow(jurisdiction=j, start_minute=w[0], end_minute=w[1], contacts=n)
        for j, n in by_jurisdiction.iter_rows()
        for w in [allowed_window(j)]
    ]

    out = schemas.Kpis(
        period=p,
        scope=scope,
        accounts=accounts.height,
        recovery=[schemas.CurrencyRecovery(**row) for row in recovery.iter_rows(named=True)],
        cure=[schemas.CureRate(**row) for row in cure.iter_rows(named=True)],
        contacts=[
            schemas.ContactCount(**row)
            for row in counts.sort("channel", "purpose", "status").iter_rows(named=True)
        ],
        attempts=attempts,
        reached=reached,
        calls=calls,
        conversations=talks,
        right_party_rate=_rate(talks, calls),
        reach=[
            schemas.ChannelReach(channel=c, attempts=a, reached=r, rate=_rate(r, a))
            for c, a, r in reach.iter_rows()
        ],
        promises=schemas.Promises(kept=kept, broken=broken, rate=_rate(kept, kept + broken)),
        costs=schemas.CostFigures(
            currency=costs.currency,
            contacts_minor=contact_cost,
            agents_minor=agent_cost,
            total_minor=contact_cost + agent_cost,
            collected_minor=collected_in,
            per_unit_collected=_rate(contact_cost + agent_cost, collected_in),
        ),
        complaints=complaints,
        opt_outs=opt_outs,
        complaints_per_1000=_rate(1000 * complaints, attempts),
        opt_outs_per_1000=_rate(1000 * opt_outs, attempts),
        held=_held(session, p, within),
        agent_tasks=[schemas.TaskCount(**row) for row in tasks.iter_rows(named=True)],
        local_hours=[schemas.HourCount(**row) for row in hours.iter_rows(named=True)],
        allowed_windows=windows,
    )
    rolls = _roll_rates(session, p, events, accounts, scope)
    exps, arm_curves = _experiments(session, p, scope)
    portfolio = stats.recovery_curve(per_account, collected, p.from_date, p.to_date).select(
        pl.lit("").alias("experiment"), pl.lit("all").alias("arm"), "day", "rate"
    )
    return ReportData(out, rolls, exps, pl.concat([portfolio, arm_curves]))


# -- roll rates ----------------------------------------------------------------------------------


def roll_rates(
    session: Session, p: schemas.Period, *, scope: schemas.Scope = ALL
) -> schemas.RollRates:
    within = _accounts(scope, p)
    accounts = repo.observed_accounts(session, within)
    events = repo.bucket_events(session, p.to_date, within)
    return _roll_rates(session, p, events, accounts, scope)


def _roll_rates(
    session: Session,
    p: schemas.Period,
    events: pl.DataFrame,
    accounts: pl.DataFrame,
    scope: schemas.Scope = ALL,
) -> schemas.RollRates:
    """Snapshots a month apart from the end of the day before the period (or the first day the
    delinquency pass ran, when later: no bucket is known before it)."""
    start = p.from_date - dt.timedelta(days=1)
    first = repo.first_run(session)
    if first is not None and first > start:
        start = first
    days = stats.snapshots(start, p.to_date) if start <= p.to_date and first else []
    cells = stats.roll_counts(events, accounts, days)
    buckets = stats.bucket_order(
        [stats.CURRENT, *cells["from_bucket"].to_list(), *cells["to_bucket"].to_list()]
    )
    return schemas.RollRates(
        period=p,
        scope=scope,
        snapshots=days,
        buckets=buckets,
        cells=[schemas.RollCell(**row) for row in cells.iter_rows(named=True)],
    )


# -- experiments ---------------------------------------------------------------------------------


def experiments(
    session: Session, p: schemas.Period, *, scope: schemas.Scope = ALL
) -> schemas.Experiments:
    return _experiments(session, p, scope)[0]


def _experiments(
    session: Session, p: schemas.Period, scope: schemas.Scope = ALL
) -> tuple[schemas.Experiments, pl.DataFrame]:
    """Per experiment, each arm's mean account recovery rate from the day the account was first
    decided in the arm, against the reference arm; and the arms' recovery curves."""
    per_unit, collected = _per_account(session, p, experiments=True, within=_accounts(scope, p))
    # An account the policy moved to another arm (a new version, new shares) stays in its first.
    per_unit = per_unit.sort("start_date", "arm").unique(
        ["experiment", "account_id"], keep="first", maintain_order=True
    )
    unit = ["experiment", "arm", "account_id"]
    collected = collected.join(per_unit.select(unit), on=unit, how="semi")
    rates = stats.arm_rates(per_unit)
    results = []
    for (name,), frame in sorted(rates.partition_by("experiment", as_dict=True).items()):
        by_arm = {arm: part for (arm,), part in frame.partition_by("arm", as_dict=True).items()}
        reference = stats.reference_arm(list(by_arm))
        ref = stats.estimate(by_arm[reference]["rate"].to_list())
        arms = []
        for arm in sorted(by_arm, key=lambda a: (a != reference, a)):
            part = by_arm[arm]
            est = stats.estimate(part["rate"].to_list())
            diff = None if arm == reference else stats.difference(est, ref)
            arms.append(
                schemas.ArmResult(
                    arm=arm,
                    accounts=est.n,
                    mean_rate=est.mean,
                    sd=est.sd,
                    paying_share=float(part["paid"].mean()),  # type: ignore[arg-type]
                    reference=arm == reference,
                    diff=diff.diff if diff else None,
                    se=diff.se if diff else None,
                    ci_low=diff.low if diff else None,
                    ci_high=diff.high if diff else None,
                    uplift=diff.relative if diff else None,
                )
            )
        results.append(
            schemas.ExperimentResult(experiment=str(name), reference_arm=reference, arms=arms)
        )
    curves = (
        stats.recovery_curve(
            per_unit.drop("start_date"),
            collected.drop("start_date"),
            p.from_date,
            p.to_date,
            keys=["experiment", "arm"],
        )
        if per_unit.height
        else pl.DataFrame(
            schema={"experiment": pl.String, "arm": pl.String, "day": pl.Date, "rate": pl.Float64}
        )
    )
    return schemas.Experiments(period=p, scope=scope, experiments=results), curves
