"""The guard over a Polars frame of planned contacts: the daily run checks them all at once.

Same semantics as `guard.decide`, which a property test holds equal on random inputs:

- the plan (reasons time cannot cure, and which time-bound rules apply) is computed by the very same
  `guard.plan` once per distinct combination of the non-time columns and joined back;
- the clock is vectorised: every (contact, candidate zone, hours rule) looks for its next open
  moment day by day, caps compare their pre-aggregated counters, inconvenient periods and grace
  give their own moments, and the fixpoint of the latest moment runs over the whole frame.

Input columns are the fields of `Facts` (`zones` and `flags` as lists of strings,
`consent_windows` as a list of structs {start, end, valid_from, valid_until}, `inconvenient` as a
list of structs {days: list of weekday numbers, start, end}), plus `contact_id`. Every column but
`contact_id`, `at`, `channel`, `jurisdiction` and `zones` may be left out and takes the default of
`Facts`. Counters come as a long frame (`contact_id`, `rule`, `count`, `release_at`), one row per
contact and cap rule; a missing row counts as zero.

The output has `contact_id`, `allowed`, `codes` (the distinct reason codes), `reasons` (one
`rule:CODE` per reason, sorted) and `next_allowed_at`, in the input's order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

import polars as pl

from recoup.compliance.calendars import CalendarUnknown
from recoup.compliance.codes import FLAGS
from recoup.compliance.facts import ConsentWindow, Facts, Inconvenient, Tally
from recoup.compliance.guard import HORIZON_DAYS, MAX_AHEAD, MAX_ROUNDS, Plan, decide, plan
from recoup.compliance.localtime import day_window, subdivision_of, utc_at
from recoup.compliance.packs import Guard, HoursRule

UTC = "UTC"
NEVER = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
STATIC = (
    "channel",
    "jurisdiction",
    "party",
    "collector",
    "product",
    "dpd",
    "flags",
    "handover_notice_sent",
    "time_barred",
    "to_type",
    "opted_out",
    "electronic_consent",
    "recent_inbound",
    "wrong_party",
    "debtor_unreachable",
    "third_party_refused",
    "evidence",
    "designated",
    "third_party_contacts",
    "content_text",
    "content_language",
    "creditor_name",
)
CONSENT_WINDOW = pl.Struct(
    {
        "start": pl.Int32,
        "end": pl.Int32,
        "valid_from": pl.Datetime("us", UTC),
        "valid_until": pl.Datetime("us", UTC),
    }
)
INCONVENIENT = pl.Struct({"days": pl.List(pl.Int8), "start": pl.Int32, "end": pl.Int32})


class FrameError(ValueError):
    pass


# Up to this many contacts with no counters (an event re-deciding one account), deciding each with
# `guard.decide` costs microseconds where the frame machinery costs tens of milliseconds.
SMALL = 8


def decide_frame(
    guard: Guard, contacts: pl.DataFrame, tallies: pl.DataFrame | None = None, *, small: int = SMALL
) -> pl.DataFrame:
    if tallies is None and contacts.height <= small:
        return _decide_each(guard, _complete(contacts))
    frame = _complete(contacts).with_row_index("_row")
    plans, keyed = _plans(guard, frame)
    temporal = _temporal(guard, keyed, plans, tallies)
    static = pl.DataFrame(
        {
            "_plan": list(range(len(plans))),
            "_static": [sorted(f"{r.rule}:{r.code.value}" for r in p.reasons) for p in plans],
            "_scodes": [sorted({r.code.value for r in p.reasons}) for p in plans],
        },
        schema={
            "_plan": pl.UInt32,
            "_static": pl.List(pl.String),
            "_scodes": pl.List(pl.String),
        },
    )
    base = keyed.select("_row", "contact_id", "_plan").join(static, on="_plan", how="left")
    # Rows a time-bound rule blocks get their merged lists from a frame of those rows only; the
    # merge is a plain copy where the plan itself has no reason (nearly always).
    clean = pl.col("_static").list.len() == 0
    timed = temporal.join(base.select("_row", "_static", "_scodes"), on="_row", how="left").select(
        "_row",
        "_next",
        pl.when(clean)
        .then(pl.col("_tcodes"))
        .otherwise(pl.concat_list("_scodes", "_tcodes").list.unique().list.sort())
        .alias("_codes"),
        pl.when(clean)
        .then(pl.col("_temporal"))
        .otherwise(pl.concat_list("_static", "_temporal").list.sort())
        .alias("_reasons"),
        clean.alias("_clean"),
    )
    return base.join(timed, on="_row", how="left").select(
        "contact_id",
        (clean & pl.col("_reasons").is_null()).alias("allowed"),
        pl.coalesce("_codes", "_scodes").alias("codes"),
        pl.coalesce("_reasons", "_static").alias("reasons"),
        pl.when(pl.col("_clean")).then(pl.col("_next")).alias("next_allowed_at"),
    )


def _decide_each(guard: Guard, frame: pl.DataFrame) -> pl.DataFrame:
    """`decide_frame` for a handful of contacts: the single-contact guard on each row."""
    rows = []
    for row in frame.iter_rows(named=True):
        d = decide(guard, _facts_of(row))
        rows.append(
            {
                "contact_id": row["contact_id"],
                "allowed": d.allowed,
                "codes": d.codes,
                "reasons": sorted(f"{r.rule}:{r.code.value}" for r in d.reasons),
                "next_allowed_at": d.next_allowed_at,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "contact_id": frame.schema["contact_id"],
            "allowed": pl.Boolean,
            "codes": pl.List(pl.String),
            "reasons": pl.List(pl.String),
            "next_allowed_at": pl.Datetime("us", UTC),
        },
    )


def _facts_of(row: dict[str, Any]) -> Facts:
    """A completed frame row as `Facts` (the inverse of `facts_frame`)."""
    values = {f.name: row[f.name] for f in fields(Facts)}
    values["zones"] = tuple(row["zones"])
    values["flags"] = frozenset(row["flags"] or ())
    values["consent_windows"] = tuple(
        ConsentWindow(c["start"], c["end"], c["valid_from"], c["valid_until"])
        for c in row["consent_windows"] or ()
    )
    values["inconvenient"] = tuple(
        Inconvenient(frozenset(i["days"] or ()), i["start"], i["end"])
        for i in row["inconvenient"] or ()
    )
    values["content_text"] = row["content_text"] or None
    values["content_language"] = row["content_language"] or None
    return Facts(**values)


# -- input ----------------------------------------------------------------------------------------


def _complete(contacts: pl.DataFrame) -> pl.DataFrame:
    required = ("contact_id", "at", "channel", "jurisdiction", "zones")
    missing = [c for c in required if c not in contacts.columns]
    if missing:
        raise FrameError(f"planned contacts need the column(s) {', '.join(missing)}")
    defaults = {f.name: f.default for f in fields(Facts) if f.name not in required}
    exprs: list[pl.Expr] = []
    for name, default in defaults.items():
        if name in contacts.columns:
            continue
        if name == "flags":
            exprs.append(pl.lit([], pl.List(pl.String)).alias(name))
        elif name == "consent_windows":
            exprs.append(pl.lit([], pl.List(CONSENT_WINDOW)).alias(name))
        elif name == "inconvenient":
            exprs.append(pl.lit([], pl.List(INCONVENIENT)).alias(name))
        elif name == "call_back_until":
            exprs.append(pl.lit(None, pl.Datetime("us", UTC)).alias(name))
        else:
            exprs.append(pl.lit(default).alias(name))
    frame = contacts.with_columns(exprs) if exprs else contacts
    return frame.with_columns(
        pl.col("at").dt.convert_time_zone(UTC).dt.cast_time_unit("us"),
        pl.col("call_back_until").cast(pl.Datetime("us", UTC)),
        pl.col("zones").cast(pl.List(pl.String)),
        pl.col("flags").cast(pl.List(pl.String)),
        pl.col("consent_windows").cast(pl.List(CONSENT_WINDOW)),
        pl.col("inconvenient").cast(pl.List(INCONVENIENT)),
        pl.col("dpd").cast(pl.Int64),
        pl.col("third_party_contacts").cast(pl.Int64),
        pl.col("content_text").fill_null(""),
        pl.col("content_language").fill_null(""),
        pl.col("creditor_name").fill_null(""),
    )


def _dpd_bands(guard: Guard) -> list[int]:
    """DPD values at which some rule's plan can change (waivers over N days past due)."""
    marks = set()
    for rule in guard.all_rules():
        if isinstance(rule, HoursRule):
            if rule.waived_over_dpd is not None:
                marks.add(rule.waived_over_dpd)
            marks.update(rule.waived_over_dpd_by_product.values())
    return sorted(marks)


def _plans(guard: Guard, frame: pl.DataFrame) -> tuple[list[Plan], pl.DataFrame]:
    marks = _dpd_bands(guard)
    # A representative DPD per band: every value in (m_i, m_i+1] plans alike.
    rep = pl.lit(marks[-1] + 1 if marks else 0)
    for m in reversed(marks):
        rep = pl.when(pl.col("dpd") <= m).then(pl.lit(m)).otherwise(rep)
    frame = frame.with_columns(
        rep.alias("_dpd_rep"),
        pl.sum_horizontal(
            pl.col("flags").list.contains(flag).cast(pl.Int32) * (1 << i)
            for i, flag in enumerate(FLAGS)
        ).alias("_flags_key"),
    )
    key_cols = [c for c in STATIC if c not in ("dpd", "flags")] + ["_dpd_rep", "_flags_key"]
    grouped = frame.group_by(key_cols).agg(pl.col("_row")).with_row_index("_plan")
    keys = grouped.drop("_row")
    plans = []
    placeholder = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    for row in keys.iter_rows(named=True):
        values: dict[str, Any] = {c: row[c] for c in STATIC if c not in ("dpd", "flags")}
        values["dpd"] = row["_dpd_rep"]
        values["flags"] = frozenset(f for i, f in enumerate(FLAGS) if row["_flags_key"] >> i & 1)
        values["content_text"] = values["content_text"] or None
        values["content_language"] = values["content_language"] or None
        plans.append(plan(guard, Facts(at=placeholder, zones=("UTC",), **values)))
    plan_of = grouped.select("_plan", "_row").explode("_row")
    return plans, frame.join(plan_of, on="_row", how="left")


# -- the clock ------------------------------------------------------------------------------------


def _temporal(
    guard: Guard, frame: pl.DataFrame, plans: list[Plan], tallies: pl.DataFrame | None
) -> pl.DataFrame:
    caps = _caps_table(plans)
    grace = _grace_table(plans)
    rows = frame.select(
        "_row",
        "_plan",
        "at",
        "zones",
        "jurisdiction",
        "dpd",
        "call_back_until",
        "consent_windows",
        "inconvenient",
    )
    incon_plans = [i for i, p in enumerate(plans) if p.inconvenient is not None]

    clocks, hours_map, h = _hours_rows(rows, plans)
    clock_sids = pl.DataFrame(
        {"_ck": range(len(clocks)), "_sid": [c.sid for c in clocks]},
        schema={"_ck": pl.UInt32, "_sid": pl.UInt32},
    )

    c = rows.select("_row", "_plan", "call_back_until").join(caps, on="_plan", how="inner")
    if tallies is not None and c.height:
        # Only counters at or over their cap can block: filter them before the big join.
        t = (
            tallies.select(
                pl.col("contact_id"),
                pl.col("rule").alias("_rule"),
                pl.col("count").cast(pl.Int64),
                pl.col("release_at").cast(pl.Datetime("us", UTC)),
            )
            .join(caps.select("_rule", "_max").unique(), on="_rule")
            .filter(pl.col("count") >= pl.col("_max"))
            .drop("_max")
        )
        c = c.join(frame.select("_row", "contact_id"), on="_row").join(
            t, on=["contact_id", "_rule"], how="inner"
        )
    else:
        c = c.with_columns(
            pl.lit(None, pl.Int64).alias("count"),
            pl.lit(None, pl.Datetime("us", UTC)).alias("release_at"),
        )
    c = c.with_columns(pl.col("count").fill_null(0)).filter(pl.col("count") >= pl.col("_max"))

    i = (
        rows.filter(pl.col("_plan").is_in(incon_plans) & (pl.col("inconvenient").list.len() > 0))
        .select("_row", "zones", "inconvenient")
        .explode("zones")
        .rename({"zones": "zone"})
        .explode("inconvenient")
        .unnest("inconvenient")
    )

    g = (
        rows.select("_row", "_plan", "at", "zones", "dpd")
        .join(grace, on="_plan", how="inner")
        .filter(pl.col("dpd") <= pl.col("_days"))
    )
    g = _grace_moments(g)

    # Round 0: which components block at `at`, and the fixpoint from there.
    t = rows.select("_row", pl.col("at").alias("t"), pl.col("at"))
    blocked: list[pl.DataFrame] = []
    done: list[pl.DataFrame] = []
    active = t
    for round_no in range(MAX_ROUNDS):
        moments = []
        hn = _hours_next(
            h.rename({"at": "t"})
            if round_no == 0
            else h.join(active.select("_row", "t"), on="_row"),
            clocks,
        )
        if round_no == 0:
            blocked.append(
                hn.filter(pl.col("_next") != pl.col("t"))
                .group_by("_row", "_ck")
                .agg(pl.col("_rest").any(), pl.col("_unk").any())
                .join(clock_sids, on="_ck")
                .join(rows.select("_row", "_plan"), on="_row")
                .join(hours_map, on=["_plan", "_sid"])
                .select(
                    "_row",
                    "rule",
                    pl.when(pl.col("_unk"))
                    .then(pl.lit("CALENDAR_UNKNOWN"))
                    .when(pl.col("_rest"))
                    .then(pl.lit("REST_DAY"))
                    .otherwise(pl.lit("OUTSIDE_HOURS"))
                    .alias("code"),
                )
            )
        moments.append(hn.select("_row", "_next"))
        cn = _caps_next(c.join(active.select("_row", "t"), on="_row"))
        if round_no == 0:
            blocked.append(
                cn.filter(pl.col("_next") != pl.col("t")).select(
                    "_row", pl.col("_rule").alias("rule"), pl.col("_code").alias("code")
                )
            )
        moments.append(cn.select("_row", "_next"))
        inn = _inconvenient_next(i.join(active.select("_row", "t"), on="_row"))
        if round_no == 0:
            rule_id = next((p.inconvenient.id for p in plans if p.inconvenient is not None), "")
            blocked.append(
                inn.filter(pl.col("_next") != pl.col("t"))
                .select("_row")
                .unique()
                .with_columns(
                    pl.lit(rule_id).alias("rule"), pl.lit("DEBTOR_INCONVENIENT").alias("code")
                )
            )
        moments.append(inn.select("_row", "_next"))
        gn = g.join(active.select("_row", "t"), on="_row").select(
            "_row", "t", pl.max_horizontal("t", "_moment").alias("_next"), "_rule"
        )
        if round_no == 0:
            blocked.append(
                gn.filter(pl.col("_next") != pl.col("t")).select(
                    "_row", pl.col("_rule").alias("rule"), pl.lit("GRACE_PERIOD").alias("code")
                )
            )
        moments.append(gn.select("_row", "_next"))

        latest = pl.concat(moments).group_by("_row").agg(pl.col("_next").max())
        step = active.join(latest, on="_row", how="left").with_columns(
            pl.max_horizontal("t", pl.col("_next").fill_null(pl.col("t"))).alias("_new")
        )
        settled = step.filter(pl.col("_new") == pl.col("t"))
        gone = step.filter(pl.col("_new") - pl.col("at") > pl.duration(days=MAX_AHEAD.days))
        done.append(settled.select("_row", pl.col("t").alias("_next")))
        done.append(gone.select("_row", pl.lit(None, pl.Datetime("us", UTC)).alias("_next")))
        active = step.filter(
            (pl.col("_new") != pl.col("t"))
            & (pl.col("_new") - pl.col("at") <= pl.duration(days=MAX_AHEAD.days))
        ).select("_row", pl.col("_new").alias("t"), "at")
        if active.height == 0:
            break
    done.append(active.select("_row", pl.lit(None, pl.Datetime("us", UTC)).alias("_next")))

    reasons = (
        pl.concat(blocked)
        .unique()
        .group_by("_row")
        .agg(
            pl.concat_str("rule", pl.lit(":"), "code").sort().alias("_temporal"),
            pl.col("code").unique().sort().alias("_tcodes"),
        )
    )
    # Only rows a time-bound rule blocks at `at` have a next moment to report.
    return pl.concat(done).join(reasons, on="_row", how="inner")


@dataclass(frozen=True)
class _Clock:
    """One hours schedule read in one holiday calendar."""

    sid: int
    rule: HoursRule
    country: str
    subdivision: str | None


def _hours_rows(
    rows: pl.DataFrame, plans: list[Plan]
) -> tuple[list[_Clock], pl.DataFrame, pl.DataFrame]:
    """(row, zone, clock) for every hours rule that applies, with the map back to rule ids.

    Hours rules with the same schedule (house.hours and us.hours, say) share a schedule id, and a
    schedule read in one holiday calendar is a clock, computed once per (row, zone, clock).
    """
    schedules: dict[tuple[Any, ...], int] = {}
    by_rule: dict[str, int] = {}
    representative: dict[int, HoursRule] = {}
    pairs = []
    for i, p in enumerate(plans):
        for r in p.hours:
            if r.id not in by_rule:
                by_rule[r.id] = schedules.setdefault(_schedule(r), len(schedules))
            sid = by_rule[r.id]
            representative.setdefault(sid, r)
            pairs.append((i, sid, r.id))
    hours_map = pl.DataFrame(
        pairs, schema={"_plan": pl.UInt32, "_sid": pl.UInt32, "rule": pl.String}, orient="row"
    )
    h = rows.select("_row", "_plan", "at", "zones", "jurisdiction", "consent_windows").join(
        hours_map.select("_plan", "_sid").unique(), on="_plan", how="inner"
    )
    clocks: list[_Clock] = []
    index: dict[tuple[int, str, str | None], int] = {}
    keyed = []
    for sid, jurisdiction in h.select("_sid", "jurisdiction").unique().iter_rows():
        rule = representative[sid]
        country = rule.calendar if rule.calendar not in ("", "ZZ") else jurisdiction.split("-")[0]
        subdivision = subdivision_of(country, jurisdiction)
        key = (sid, country, subdivision)
        if key not in index:
            index[key] = len(clocks)
            clocks.append(_Clock(sid, rule, country, subdivision))
        keyed.append((sid, jurisdiction, index[key]))
    ck = pl.DataFrame(
        keyed,
        schema={"_sid": pl.UInt32, "jurisdiction": pl.String, "_ck": pl.UInt32},
        orient="row",
    )
    h = (
        h.join(ck, on=["_sid", "jurisdiction"], how="left")
        .drop("jurisdiction", "_plan", "_sid")
        .explode("zones")
        .rename({"zones": "zone"})
    )
    return clocks, hours_map, h


def _schedule(rule: HoursRule) -> tuple[Any, ...]:
    days = tuple(rule.window_for(d, h) for d in range(7) for h in (False, True))
    calendar = rule.calendar if rule.calendar not in ("", "ZZ") else ""
    # Whether the calendar is asked at all is part of the schedule: a day it does not know refuses.
    return (days, rule.consent_opens, rule.working_days, rule.holidays != "allow", calendar)


def _local_to_utc(day: pl.Expr, minute: pl.Expr, zone: str) -> pl.Expr:
    """The instant of a local wall time, read as `localtime.utc_at` reads it (gaps shift forward)."""
    naive = day.cast(pl.Datetime("us")) + pl.duration(minutes=minute)
    exact = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    # In a gap, read the wall time with the offset in force before it (fold=0): take an instant
    # three hours earlier, which has that offset, and add the three hours back.
    before = (naive - pl.duration(hours=3)).dt.replace_time_zone(
        zone, ambiguous="earliest", non_existent="null"
    ) + pl.duration(hours=3)
    return pl.coalesce(exact, before).dt.convert_time_zone(UTC)


def _hours_next(hj: pl.DataFrame, clocks: list[_Clock]) -> pl.DataFrame:
    """Per (row, zone, clock): the earliest moment at or after t inside the window (NEVER if none).

    The open span of each (clock, local day) is computed once on a small grid with the single
    path's own `utc_at`, so the per-row work is a join and comparisons; consented windows, being
    per debtor, are computed per row.
    """
    keys = ["_row", "_ck"]
    columns = ["_row", "zone", "_ck", "t", "_rest", "_unk", "_next"]
    out = [
        hj.clear().select(
            "_row",
            "zone",
            "_ck",
            "t",
            pl.lit(None, pl.Boolean).alias("_rest"),
            pl.lit(None, pl.Boolean).alias("_unk"),
            pl.col("t").alias("_next"),
        )
    ]
    for (zone,), part in hj.partition_by("zone", as_dict=True).items():
        assert isinstance(zone, str)
        pending = part.select(
            *keys,
            "t",
            "consent_windows",
            pl.col("t").dt.convert_time_zone(zone).dt.date().alias("_today"),
        )
        grid = _open_spans(pending, zone, clocks)
        for k in range(HORIZON_DAYS):
            if pending.height == 0:
                break
            day = pending.with_columns((pl.col("_today") + pl.duration(days=k)).alias("_day")).join(
                grid, on=["_ck", "_day"], how="left"
            )
            if k == 0:
                day = day.with_columns(
                    pl.col("_lo").is_null().alias("_rest"), pl.col("_unknown").alias("_unk")
                )
            start = pl.max_horizontal("t", "_lo")
            day = day.with_columns(pl.when(start < pl.col("_hi")).then(start).alias("_next"))
            consented = day.filter(
                pl.col("_lo").is_not_null()
                & pl.col("_opens")
                & (pl.col("consent_windows").list.len() > 0)
            )
            if consented.height:
                best = (
                    consented.select(*keys, "t", "_day", "consent_windows")
                    .explode("consent_windows")
                    .unnest("consent_windows")
                    .select(
                        *keys,
                        pl.max_horizontal(
                            "t", _local_to_utc(pl.col("_day"), pl.col("start"), zone), "valid_from"
                        ).alias("_lo"),
                        pl.min_horizontal(
                            _local_to_utc(pl.col("_day"), pl.col("end"), zone), "valid_until"
                        ).alias("_hi"),
                    )
                    .filter(pl.col("_lo") < pl.col("_hi"))
                    .group_by(keys)
                    .agg(pl.col("_lo").min().alias("_consented"))
                )
                day = day.join(best, on=keys, how="left").with_columns(
                    pl.min_horizontal("_next", "_consented").alias("_next")
                )
            out.append(
                day.filter(pl.col("_next").is_not_null()).select(
                    "_row", pl.lit(zone).alias("zone"), "_ck", "t", "_rest", "_unk", "_next"
                )
            )
            # A day the calendar does not know ends the search: no moment is guessed past it.
            out.append(
                day.filter(pl.col("_next").is_null() & pl.col("_unknown")).select(
                    "_row",
                    pl.lit(zone).alias("zone"),
                    "_ck",
                    "t",
                    "_rest",
                    "_unk",
                    pl.lit(NEVER).dt.cast_time_unit("us").alias("_next"),
                )
            )
            pending = day.filter(pl.col("_next").is_null() & ~pl.col("_unknown")).select(
                *keys, "t", "consent_windows", "_today", "_rest", "_unk"
            )
        out.append(
            pending.select(
                "_row",
                pl.lit(zone).alias("zone"),
                "_ck",
                "t",
                "_rest",
                "_unk",
                pl.lit(NEVER).dt.cast_time_unit("us").alias("_next"),
            )
        )
    return pl.concat([o.select(columns) for o in out], how="vertical_relaxed")


def _open_spans(pending: pl.DataFrame, zone: str, clocks: list[_Clock]) -> pl.DataFrame:
    """For each clock and local day the rows may look at: the open span in UTC (null: rest day)."""
    first, last = pending["_today"].min(), pending["_today"].max()
    assert isinstance(first, dt.date)
    assert isinstance(last, dt.date)
    rows = []
    for ck in pending["_ck"].unique().to_list():
        clock = clocks[ck]
        day = first
        while day <= last + dt.timedelta(days=HORIZON_DAYS):
            try:
                w = day_window(clock.rule, day, (clock.country, clock.subdivision))
                unknown = False
            except CalendarUnknown:
                w, unknown = None, True
            rows.append(
                (
                    ck,
                    day,
                    clock.rule.consent_opens,
                    utc_at(day, w.start, zone) if w else None,
                    utc_at(day, w.end, zone) if w else None,
                    unknown,
                )
            )
            day += dt.timedelta(days=1)
    return pl.DataFrame(
        rows,
        schema={
            "_ck": pl.UInt32,
            "_day": pl.Date,
            "_opens": pl.Boolean,
            "_lo": pl.Datetime("us", UTC),
            "_hi": pl.Datetime("us", UTC),
            "_unknown": pl.Boolean,
        },
        orient="row",
    )


def _caps_table(plans: list[Plan]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (i, r.id, r.max, r.exempt_with_consent, r.code.value)
            for i, p in enumerate(plans)
            for r in p.caps
        ],
        schema={
            "_plan": pl.UInt32,
            "_rule": pl.String,
            "_max": pl.Int64,
            "_exempt": pl.Boolean,
            "_code": pl.String,
        },
        orient="row",
    )


def _caps_next(cj: pl.DataFrame) -> pl.DataFrame:
    return cj.select(
        "_row",
        "t",
        "_rule",
        "_code",
        pl.when(
            pl.col("_exempt")
            & pl.col("call_back_until").is_not_null()
            & (pl.col("t") < pl.col("call_back_until"))
        )
        .then(pl.col("t"))
        .when(pl.col("release_at").is_null())
        .then(pl.lit(NEVER).dt.cast_time_unit("us"))
        .otherwise(pl.max_horizontal("t", "release_at"))
        .alias("_next"),
    )


def _inconvenient_next(ij: pl.DataFrame) -> pl.DataFrame:
    out = [ij.clear().select("_row", "t", pl.col("t").alias("_next"))]
    for (zone,), part in ij.partition_by("zone", as_dict=True).items():
        assert isinstance(zone, str)
        day = pl.col("t").dt.convert_time_zone(zone).dt.date()
        weekday = (day.dt.weekday() - 1).cast(pl.Int8)
        start = _local_to_utc(day, pl.col("start"), zone)
        end = _local_to_utc(day, pl.col("end"), zone)
        matches = (pl.col("days").list.len() == 0) | pl.col("days").list.contains(weekday)
        out.append(
            part.select(
                "_row",
                "t",
                pl.when(matches & (start <= pl.col("t")) & (pl.col("t") < end))
                .then(end)
                .otherwise(pl.col("t"))
                .alias("_next"),
            )
        )
    return pl.concat(out, how="vertical_relaxed")


def _grace_table(plans: list[Plan]) -> pl.DataFrame:
    return pl.DataFrame(
        [(i, r.id, r.days) for i, p in enumerate(plans) for r in p.grace],
        schema={"_plan": pl.UInt32, "_rule": pl.String, "_days": pl.Int64},
        orient="row",
    )


def _grace_moments(g: pl.DataFrame) -> pl.DataFrame:
    """Per (row, grace rule): the latest local midnight at which DPD exceeds the grace days."""
    exploded = g.explode("zones").rename({"zones": "zone"})
    parts = [g.clear().select("_row", "_rule", pl.col("at").alias("_moment"))]
    for (zone,), part in exploded.partition_by("zone", as_dict=True).items():
        assert isinstance(zone, str)
        ahead = pl.col("_days") - pl.col("dpd") + 1
        day = pl.col("at").dt.convert_time_zone(zone).dt.date() + pl.duration(days=ahead)
        parts.append(
            part.select("_row", "_rule", _local_to_utc(day, pl.lit(0), zone).alias("_moment"))
        )
    return (
        pl.concat(parts, how="vertical_relaxed")
        .group_by("_row", "_rule")
        .agg(pl.col("_moment").max())
    )


def facts_frame(facts: list[Facts], contact_ids: list[Any] | None = None) -> pl.DataFrame:
    """A frame of planned contacts from `Facts` (tests, tools, and small batches built in Python)."""
    rows = []
    for i, f in enumerate(facts):
        row = {x.name: getattr(f, x.name) for x in fields(Facts)}
        row["contact_id"] = contact_ids[i] if contact_ids is not None else i
        row["zones"] = list(f.zones)
        row["flags"] = sorted(f.flags)
        row["consent_windows"] = [
            {
                "start": c.start,
                "end": c.end,
                "valid_from": c.valid_from,
                "valid_until": c.valid_until,
            }
            for c in f.consent_windows
        ]
        row["inconvenient"] = [
            {"days": sorted(p.days), "start": p.start, "end": p.end} for p in f.inconvenient
        ]
        rows.append(row)
    return pl.DataFrame(
        rows,
        schema_overrides={
            "at": pl.Datetime("us", UTC),
            "call_back_until": pl.Datetime("us", UTC),
            "zones": pl.List(pl.String),
            "flags": pl.List(pl.String),
            "consent_windows": pl.List(CONSENT_WINDOW),
            "inconvenient": pl.List(INCONVENIENT),
            "content_text": pl.String,
            "content_language": pl.String,
        },
    )


def tallies_frame(tallies: dict[Any, dict[str, Tally]]) -> pl.DataFrame:
    """The long counter frame from per-contact `Tally` mappings."""
    return pl.DataFrame(
        [
            {"contact_id": cid, "rule": rule, "count": t.count, "release_at": t.release_at}
            for cid, per_rule in tallies.items()
            for rule, t in per_rule.items()
        ],
        schema={
            "contact_id": pl.Int64,
            "rule": pl.String,
            "count": pl.Int64,
            "release_at": pl.Datetime("us", UTC),
        },
    )
