"""The contact audit's own reading of the rule packs: given what was sent, which contacts broke a rule.

A second pair of eyes on the compliance guard, so it shares none of the guard's decision code: it
reads the packs as data (windows, rest days, caps, citations) through the pack loader and
recomputes, over whole frames, the few questions an auditor asks of the record. It imports neither
`recoup.compliance.guard` nor `recoup.compliance.batch` (an import-linter contract holds it so).
What it does share is the pack data, the selection of packs for a jurisdiction and collector, the
translation of Recoup's own words into the packs' vocabulary, and the zone and holiday calendars:
those say what the records and the law are, not what to decide.

Every question is asked at the moment the contact left (`sent_at`; an e-mail or text is timed when
it is sent, Reg F comment 6(b)(1)(i)-1), in every zone the debtor might be in:

- hours and days: the local minute is inside the rule's window for that local day, and the day is
  not a rest day (a weekday the rule leaves out, a public holiday where the rule forbids them, a
  non-working day where the rule keeps to working days);
- caps: among the collection contacts sent to the debtor *before* this one (by time, then id, so
  two sent in one batch are ordered), those the rule counts inside its window, in any candidate
  zone's calendar, number fewer than the cap (the guard blocks the contact that would exceed it);
- opt-outs: no contact on a channel, at the opted-out address or at every address, between the
  opt-out's `created_at` and its `withdrawn_at`;
- dispute, hardship and cease: no contact while a pause recorded for one of them was in force on
  the account (recorded before the contact, the contact's business date inside its dates, not
  cancelled before it).

Service messages (`purpose == "service"`: the one confirmation an opt-out earns, a one-time code
the debtor asked for, a person's answer to a settlement or a case) are not collection and are not
audited here, nor counted against caps.

A call counts by the result recorded for it (telephony's report or the agent's wrap-up); a call
with none counts towards every cap that counts any call result (the reading that counts most). Consented hours and dpd-based waivers of an hours rule are not
in the record either, so the audit reads hours rules without them (the dispatcher does not pass
consented hours to the guard; a waiver is mentioned in the breach's text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from recoup.compliance.codes import CALL_RESULTS, Code
from recoup.compliance.localtime import (
    is_holiday,
    is_workday,
    known_zones,
    subdivision_of,
)
from recoup.compliance.packs import CapRule, Guard, HoursRule, Rule, StatusRule
from recoup.compliance.vocabulary import (
    COLLECTOR_ROLE,
    DEFAULT_PRODUCT,
    GUARD_CHANNEL,
    PRODUCT,
    TO_TYPE,
    jurisdiction_zones,
)

UTC = pl.Datetime("us", "UTC")

# What the database layer hands over: each contact that left, with who and what it was about.
SENT: dict[str, Any] = {
    "contact_id": pl.Int64,
    "customer_id": pl.Int64,
    "account_id": pl.Int64,
    "channel": pl.String,
    "purpose": pl.String,
    "status": pl.String,
    "sent_at": UTC,
    "address_index": pl.String,
    "collector": pl.String,
    "product": pl.String,
    "business_zone": pl.String,  # the product's zone: the one a pause's dates are written in
    "jurisdiction": pl.String,
    "timezones": pl.List(pl.String),
    "call_result": pl.String,  # what became of a call, None if nobody reported it
}
OPT_OUTS: dict[str, Any] = {
    "customer_id": pl.Int64,
    "channel": pl.String,
    "address_index": pl.String,
    "source": pl.String,
    "created_at": UTC,
    "withdrawn_at": UTC,
}
PAUSES: dict[str, Any] = {
    "account_id": pl.Int64,
    "kind": pl.String,  # what the pause stands for (a PauseKind's value)
    "reason": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "created_at": UTC,
    "cancelled_at": UTC,
}
BREACHES: dict[str, Any] = {
    "contact_id": pl.Int64,
    "customer_id": pl.Int64,
    "account_id": pl.Int64,
    "channel": pl.String,
    "sent_at": UTC,
    "rule": pl.String,
    "code": pl.String,
    "pack": pl.String,
    "citation": pl.String,
    "confidence": pl.String,
    "message": pl.String,
}

# The kinds of pause a rule forbids collection during (recoup.models.PauseKind's values: this pure
# module reads no model), and the status flag each stands for.
PAUSE_FLAGS = {"dispute": "dispute_open", "hardship": "hardship_review", "cease": "cease_requested"}
VOICE = frozenset({"call", "ai_call", "voicemail"})
# Results a sent message has, by the contact's status; a call has the one recorded for it.
MESSAGE_RESULT = {"sent": "sent", "delivered": "delivered"}


@dataclass(frozen=True)
class Breach:
    contact_id: int
    customer_id: int
    account_id: int
    channel: str
    sent_at: dt.datetime
    rule: str
    code: str
    pack: str
    citation: str
    confidence: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "customer_id": self.customer_id,
            "account_id": self.account_id,
            "channel": self.channel,
            "sent_at": self.sent_at.isoformat(),
            "rule": self.rule,
            "code": self.code,
            "pack": self.pack,
            "citation": self.citation,
            "confidence": self.confidence,
            "message": self.message,
        }


def breaches(
    sent: pl.DataFrame,
    opt_outs: pl.DataFrame,
    pauses: pl.DataFrame,
    guard: Guard,
    *,
    report_from: dt.datetime | None = None,
    report_to: dt.datetime | None = None,
) -> pl.DataFrame:
    """Every (contact, rule) breach among the collection contacts sent in [report_from, report_to);
    `sent` may reach further back, so that caps count what came before the period."""
    contacts = _normalise(sent)
    if contacts.height == 0:
        return pl.DataFrame(schema=BREACHES)
    inside = pl.lit(True)
    if report_from is not None:
        inside &= pl.col("sent_at") >= report_from
    if report_to is not None:
        inside &= pl.col("sent_at") < report_to
    audited = contacts.filter(inside)
    if audited.height == 0:
        return pl.DataFrame(schema=BREACHES)
    rules = _applicable_rules(audited, guard)
    local = _local_times(contacts)
    found = [
        _hours(audited, rules, local, guard),
        _caps(audited, contacts, rules, local, guard),
        _opt_outs(audited, rules, opt_outs.cast(OPT_OUTS), guard),  # type: ignore[arg-type]
        _pauses(audited, rules, pauses.cast(PAUSES), guard),  # type: ignore[arg-type]
    ]
    parts = [f.select(list(BREACHES)).cast(BREACHES) for f in found if f.height]  # type: ignore[arg-type]
    if not parts:
        return pl.DataFrame(schema=BREACHES)
    return (
        pl.concat(parts)
        .unique(["contact_id", "rule"], keep="first")
        .sort("sent_at", "contact_id", "rule")
    )


def as_breaches(frame: pl.DataFrame) -> list[Breach]:
    return [Breach(**row) for row in frame.iter_rows(named=True)]


# -- the contacts, in the packs' words ------------------------------------------------------------


def _normalise(sent: pl.DataFrame) -> pl.DataFrame:
    """Collection contacts only, with the packs' channel, collector role, product and address type,
    the result a cap counts, and the debtor's candidate zones."""
    frame = sent.cast(SENT).filter(  # type: ignore[arg-type]
        (pl.col("purpose") == "collection") & pl.col("sent_at").is_not_null()
    )
    # The candidate zones, worked out once per distinct (zones given, jurisdiction).
    given = pl.col("timezones").list.join(" ").fill_null("").alias("given")
    kinds = frame.select(given, "jurisdiction").unique()
    known = known_zones()
    zones = [
        [z for z in text.split() if z in known] or list(jurisdiction_zones(j))
        for text, j in kinds.iter_rows()
    ]
    kinds = kinds.with_columns(pl.Series("zones", zones, dtype=pl.List(pl.String)))
    frame = frame.with_columns(given).join(kinds, on=["given", "jurisdiction"], how="left")
    return frame.with_columns(
        pl.col("channel").replace(GUARD_CHANNEL).alias("rule_channel"),
        pl.col("collector").replace_strict(COLLECTOR_ROLE, default="creditor").alias("role"),
        pl.col("product").replace_strict(PRODUCT, default=DEFAULT_PRODUCT).alias("rule_product"),
        pl.col("channel").replace_strict(TO_TYPE, default="mobile").alias("to_type"),
        pl.when(pl.col("channel").replace(GUARD_CHANNEL).is_in(list(VOICE)))
        .then(pl.col("call_result"))
        .otherwise(pl.col("status").replace_strict(MESSAGE_RESULT, default="sent"))
        .alias("result"),
    ).drop("timezones", "given", "call_result")


def _applies(rule: Rule, channel: str, role: str, product: str, to_type: str) -> bool:
    """Does a rule speak to a contact with the debtor on this channel, by this collector, about
    this product, at this kind of address? (Content rules for time-barred debts never: no content
    is audited here.)"""
    return (
        channel in rule.channels
        and "debtor" in rule.parties
        and role in rule.collectors
        and product in rule.products
        and (rule.to_types is None or to_type in rule.to_types)
        and not rule.only_time_barred
    )


def _applicable_rules(contacts: pl.DataFrame, guard: Guard) -> pl.DataFrame:
    """(contact_id, rule_id) for every rule of the packs that bind the contact, computed once per
    distinct kind of contact and joined back."""
    keys = ["jurisdiction", "role", "rule_channel", "rule_product", "to_type"]
    kinds = contacts.select(keys).unique()
    rows = []
    for jurisdiction, role, channel, product, to_type in kinds.iter_rows():
        for rule in guard.rules_for(jurisdiction, role):
            if _applies(rule, channel, role, product, to_type):
                rows.append((jurisdiction, role, channel, product, to_type, rule.id))
    table = pl.DataFrame(rows, schema=[*keys, "rule"], orient="row").cast(
        dict.fromkeys([*keys, "rule"], pl.String)
    )
    return contacts.select("contact_id", *keys).join(table, on=keys).select("contact_id", "rule")


def _local_times(contacts: pl.DataFrame) -> pl.DataFrame:
    """(contact_id, zone) with the local day, minute, weekday, Monday and month of `sent_at`:
    one conversion per distinct zone, over all its contacts."""
    exploded = contacts.select("contact_id", "sent_at", "zones").explode("zones")
    parts = []
    for name in exploded["zones"].unique().to_list():
        local = pl.col("sent_at").dt.convert_time_zone(name)
        parts.append(
            exploded.filter(pl.col("zones") == name).select(
                "contact_id",
                pl.col("zones").alias("zone"),
                local.dt.date().alias("day"),
                (local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)).alias(
                    "minute"
                ),
                local.dt.strftime("%a %Y-%m-%d %H:%M").alias("shown"),
            )
        )
    frame = pl.concat(parts)
    return frame.with_columns(
        (pl.col("day").dt.weekday() - 1).alias("weekday"),  # 0 = Monday, as the packs count
        pl.col("day").dt.truncate("1mo").alias("month"),
    ).with_columns((pl.col("day") - pl.duration(days=pl.col("weekday"))).alias("monday"))


def _breach_rows(
    frame: pl.DataFrame, guard: Guard, code: pl.Expr, message: pl.Expr
) -> pl.DataFrame:
    """Breach rows from a frame of (contact columns, rule), with the rule's pack and citation."""
    ids = frame["rule"].unique().to_list()
    meta = pl.DataFrame(
        [(r.id, r.pack, r.citation, r.confidence, r.title) for r in map(guard.rule, ids)],
        schema=["rule", "pack", "citation", "confidence", "title"],
        orient="row",
    ).cast(pl.String)
    return frame.join(meta, on="rule").select(
        "contact_id",
        "customer_id",
        "account_id",
        "channel",
        "sent_at",
        "rule",
        code.alias("code"),
        "pack",
        "citation",
        "confidence",
        (pl.col("title") + pl.lit(" (") + message + pl.lit(")")).alias("message"),
    )


def _rules_of(ids: Iterable[str], guard: Guard, kind: type[Rule]) -> list[Any]:
    return [r for r in map(guard.rule, ids) if isinstance(r, kind)]


# -- hours and days ---------------------------------------------------------------------------------


def _open_window(
    rule: HoursRule, day: dt.date, country: str, sub: str | None
) -> tuple[int, int] | None:
    """The minutes [from, to) a rule allows on a local day, or None on its rest days."""
    if rule.working_days and not is_workday(country, sub, day):
        return None
    if is_holiday(country, sub, day):
        if rule.holidays == "forbid":
            return None
        if rule.holidays == "window" and rule.holiday_window is not None:
            return rule.holiday_window.start, rule.holiday_window.end
    if day.weekday() not in rule.days:
        return None
    window = rule.day_windows.get(day.weekday(), rule.window)
    return window.start, window.end


def _calendar(rule: HoursRule, jurisdiction: str) -> tuple[str, str | None]:
    """Whose public holidays: the pack's country, or the debtor's for a pack that spans countries."""
    country = rule.calendar if rule.calendar not in ("", "ZZ") else jurisdiction.split("-")[0]
    return country, subdivision_of(country, jurisdiction)


def _hours(
    contacts: pl.DataFrame, rules: pl.DataFrame, local: pl.DataFrame, guard: Guard
) -> pl.DataFrame:
    hours = {r.id: r for r in _rules_of(rules["rule"].unique().to_list(), guard, HoursRule)}
    if not hours:
        return pl.DataFrame(schema=BREACHES)
    pairs = (
        rules.filter(pl.col("rule").is_in(list(hours)))
        .join(contacts.select("contact_id", "jurisdiction"), on="contact_id")
        .join(local, on="contact_id")
    )
    days = pairs.select("rule", "jurisdiction", "day").unique()
    windows = []
    for rule_id, jurisdiction, day in days.iter_rows():
        rule = hours[rule_id]
        window = _open_window(rule, day, *_calendar(rule, jurisdiction))
        windows.append((rule_id, jurisdiction, day, *(window or (None, None)), _waiver(rule)))
    table = pl.DataFrame(
        windows,
        schema={
            "rule": pl.String,
            "jurisdiction": pl.String,
            "day": pl.Date,
            "open_from": pl.Int32,
            "open_to": pl.Int32,
            "waiver": pl.String,
        },
        orient="row",
    )
    broken = (
        pairs.join(table, on=["rule", "jurisdiction", "day"])
        .with_columns(pl.col("open_from").is_null().alias("rest_day"))
        .filter(
            pl.col("rest_day")
            | (pl.col("minute") < pl.col("open_from"))
            | (pl.col("minute") >= pl.col("open_to"))
        )
        .with_columns(
            pl.when(pl.col("rest_day"))
            .then(pl.lit("a rest day"))
            .otherwise(
                pl.lit("allowed ")
                + _hhmm(pl.col("open_from"))
                + pl.lit("–")
                + _hhmm(pl.col("open_to"))
            )
            .alias("why"),
        )
        .with_columns(
            (
                pl.lit("sent ")
                + pl.col("shown")
                + pl.lit(" in ")
                + pl.col("zone")
                + pl.lit(", ")
                + pl.col("why")
            ).alias("where"),
        )
        .group_by("contact_id", "rule")
        .agg(
            pl.col("rest_day").all().alias("rest_day"),
            pl.col("where").sort().str.join("; ").alias("where"),
            pl.col("waiver").first(),
        )
        .join(contacts, on="contact_id")
    )
    return _breach_rows(
        broken,
        guard,
        pl.when(pl.col("rest_day"))
        .then(pl.lit(Code.REST_DAY.value))
        .otherwise(pl.lit(Code.OUTSIDE_HOURS.value)),
        pl.col("where") + pl.col("waiver"),
    )


def _waiver(rule: HoursRule) -> str:
    limits = dict(rule.waived_over_dpd_by_product)
    if rule.waived_over_dpd is not None:
        limits["default"] = rule.waived_over_dpd
    if not limits:
        return ""
    said = ", ".join(f"{k} {v}" for k, v in sorted(limits.items()))
    return (
        f"; the rule is waived above some days past due ({said}): check the account's DPD that day"
    )


def _hhmm(minutes: pl.Expr) -> pl.Expr:
    return (
        (minutes // 60).cast(pl.String).str.zfill(2)
        + pl.lit(":")
        + (minutes % 60).cast(pl.String).str.zfill(2)
    )


# -- caps -------------------------------------------------------------------------------------------


def _lookback(rule: CapRule) -> dt.timedelta:
    """How far before a contact its window can reach, with a day of slack for zones."""
    match rule.window_kind:
        case "minutes":
            return dt.timedelta(minutes=rule.window_n)
        case "days":
            return dt.timedelta(days=rule.window_n + 1)
        case "iso_week":
            return dt.timedelta(days=8)
        case "calendar_month":
            return dt.timedelta(days=32)
        case _:
            return dt.timedelta(days=2)


def _caps(
    audited: pl.DataFrame,
    history: pl.DataFrame,
    rules: pl.DataFrame,
    local: pl.DataFrame,
    guard: Guard,
) -> pl.DataFrame:
    """One pass per cap rule: the contacts it binds, each paired with the earlier contacts of the
    same debtor (and debt, or address, where the rule's scope says so) that it counts."""
    caps = _rules_of(rules["rule"].unique().to_list(), guard, CapRule)
    found = [_cap(cap, audited, history, rules, local) for cap in caps]
    counted = pl.concat([f for f in found if f.height]) if any(f.height for f in found) else None
    if counted is None:
        return pl.DataFrame(schema=BREACHES)
    return _breach_rows(
        counted.join(audited, on="contact_id"),
        guard,
        pl.col("rule").replace_strict({c.id: c.code.value for c in caps}, return_dtype=pl.String),
        pl.col("count").cast(pl.String)
        + pl.lit(" counted contacts before it ")
        + pl.col("label")
        + pl.lit(", the limit is ")
        + pl.col("max").cast(pl.String)
        + pl.lit(": contacts ")
        + pl.col("before"),
    )


def _bucket(column: str, width: dt.timedelta) -> pl.Expr:
    return (pl.col(column).dt.epoch("us") // (width // dt.timedelta(microseconds=1))).alias(
        "bucket"
    )


def _cap(
    cap: CapRule,
    audited: pl.DataFrame,
    history: pl.DataFrame,
    rules: pl.DataFrame,
    local: pl.DataFrame,
) -> pl.DataFrame:
    """(contact_id, rule, count, max, label, before) for the contacts that reached this cap."""
    keys = ["customer_id"]
    if "debt" in cap.scope:
        keys.append("account_id")
    if "address" in cap.scope:  # no address recorded (an app message) is one address
        keys.append("address")
    address = pl.col("address_index").fill_null("")
    bound = audited.join(
        rules.filter(pl.col("rule") == cap.id), on="contact_id", how="semi"
    ).select("contact_id", "customer_id", "account_id", "sent_at", address.alias("address"))
    calls = bool(cap.count_results & set(CALL_RESULTS))  # a call nobody reported on
    earlier = history.filter(
        pl.col("rule_channel").is_in(sorted(cap.count_channels)),
        pl.col("result").is_in(sorted(cap.count_results))
        | (pl.col("result").is_null() & pl.lit(calls)),
    ).select(
        pl.col("contact_id").alias("e_id"),
        "customer_id",
        "account_id",
        address.alias("address"),
        pl.col("sent_at").alias("e_at"),
    )
    # Buckets as wide as the rule's reach: an earlier contact within reach is in the contact's
    # bucket or the one before, so each debtor's history is paired only with what is near.
    reach = _lookback(cap)
    bound = bound.with_columns(_bucket("sent_at", reach))
    earlier = pl.concat(
        [
            earlier.with_columns(_bucket("e_at", reach)),
            earlier.with_columns(_bucket("e_at", reach) + 1),
        ]
    )
    pairs = bound.join(earlier, on=[*keys, "bucket"]).filter(
        (pl.col("e_at") < pl.col("sent_at"))
        | ((pl.col("e_at") == pl.col("sent_at")) & (pl.col("e_id") < pl.col("contact_id"))),
        pl.col("e_at") > pl.col("sent_at") - reach,
    )
    if cap.window_kind == "minutes":
        inside = pairs.filter(
            pl.col("sent_at") - pl.col("e_at") < dt.timedelta(minutes=cap.window_n)
        )
    else:  # calendar windows: inside in any of the debtor's zones (the conservative count, A3)
        mine = local.select("contact_id", "zone", "day", "monday", "month")
        theirs = mine.rename(
            {"contact_id": "e_id", "day": "e_day", "monday": "e_monday", "month": "e_month"}
        )
        same = {
            "local_day": pl.col("e_day") == pl.col("day"),
            "days": pl.col("e_day") > pl.col("day") - dt.timedelta(days=cap.window_n),
            "iso_week": pl.col("e_monday") == pl.col("monday"),
            "calendar_month": pl.col("e_month") == pl.col("month"),
        }[cap.window_kind]
        inside = pairs.join(mine, on="contact_id").join(theirs, on=["e_id", "zone"]).filter(same)
    return (
        inside.select("contact_id", "e_id")
        .unique()
        .group_by("contact_id")
        .agg(
            pl.len().alias("count"),
            pl.col("e_id").sort().cast(pl.String).str.join(", ").alias("before"),
        )
        .filter(pl.col("count") >= cap.max)
        .select(
            "contact_id",
            pl.lit(cap.id).alias("rule"),
            pl.col("count").cast(pl.Int64),
            pl.lit(cap.max, pl.Int64).alias("max"),
            pl.lit(cap.window_label()).alias("label"),
            "before",
        )
    )


# -- opt-outs --------------------------------------------------------------------------------------


def _opt_outs(
    contacts: pl.DataFrame, rules: pl.DataFrame, opt_outs: pl.DataFrame, guard: Guard
) -> pl.DataFrame:
    """12 CFR 1006.14(h): "stop calling" bars every call; an electronic opt-out bars that address."""
    opt_rules = rules.filter(
        pl.col("rule").is_in([r.id for r in guard.all_rules() if r.kind == "opt_out"])
    )
    if opt_rules.height == 0 or opt_outs.height == 0:
        return pl.DataFrame(schema=BREACHES)
    stops = opt_outs.select(
        "customer_id",
        pl.col("channel").replace(GUARD_CHANNEL).alias("rule_channel"),
        pl.col("address_index").alias("o_address"),
        pl.col("source").alias("o_source"),
        pl.col("created_at").alias("o_at"),
        pl.col("withdrawn_at").alias("o_until"),
    )
    broken = (
        contacts.join(opt_rules, on="contact_id")
        .join(stops, on=["customer_id", "rule_channel"])
        .filter(
            pl.col("o_at") <= pl.col("sent_at"),
            pl.col("o_until").is_null() | (pl.col("sent_at") < pl.col("o_until")),
            # an opt-out of one address bars that address; a contact with no address recorded
            # cannot show it went elsewhere
            pl.col("o_address").is_null()
            | pl.col("address_index").is_null()
            | (pl.col("o_address") == pl.col("address_index")),
        )
        .sort("o_at")
        .unique(["contact_id", "rule"], keep="first")
    )
    return _breach_rows(
        broken,
        guard,
        pl.lit(Code.OPTED_OUT.value),
        pl.lit("opted out of ")
        + pl.col("channel")
        + pl.when(pl.col("o_address").is_null())
        .then(pl.lit(""))
        .otherwise(pl.lit(" at this address"))
        + pl.lit(" at ")
        + pl.col("o_at").dt.strftime("%Y-%m-%d %H:%M UTC")
        + pl.lit(" (")
        + pl.col("o_source")
        + pl.lit(")"),
    )


# -- dispute, hardship and cease ------------------------------------------------------------------


def _pauses(
    contacts: pl.DataFrame, rules: pl.DataFrame, pauses: pl.DataFrame, guard: Guard
) -> pl.DataFrame:
    """No collection contact while a dispute, hardship or cease pause held the account: one recorded
    before the contact, covering its business date (the product's zone), not cancelled by then."""
    if pauses.height == 0:
        return pl.DataFrame(schema=BREACHES)
    flagged = pauses.with_columns(
        pl.col("kind")
        .replace_strict(PAUSE_FLAGS, default=None, return_dtype=pl.String)
        .alias("flag")
    ).filter(pl.col("flag").is_not_null())
    if flagged.height == 0:
        return pl.DataFrame(schema=BREACHES)
    status = [r for r in guard.all_rules() if isinstance(r, StatusRule)]
    by_flag = pl.DataFrame(
        [(r.id, flag) for r in status for flag in sorted(r.flags) if flag in PAUSE_FLAGS.values()],
        schema=["rule", "flag"],
        orient="row",
    ).cast(pl.String)
    business = []
    for name in contacts["business_zone"].unique().to_list():
        business.append(
            contacts.filter(pl.col("business_zone") == name).with_columns(
                pl.col("sent_at").dt.convert_time_zone(name).dt.date().alias("business_day")
            )
        )
    broken = (
        pl.concat(business)
        .join(flagged, on="account_id")
        .filter(
            pl.col("created_at") <= pl.col("sent_at"),
            pl.col("cancelled_at").is_null() | (pl.col("sent_at") < pl.col("cancelled_at")),
            pl.col("start_date") <= pl.col("business_day"),
            pl.col("end_date").is_null() | (pl.col("business_day") <= pl.col("end_date")),
        )
        .join(by_flag, on="flag")
        .join(rules, on=["contact_id", "rule"], how="semi")  # the rule binds this contact
        .sort("created_at")
        .unique(["contact_id", "rule"], keep="first")
    )
    codes = {r.id: r.code.value for r in status}
    return _breach_rows(
        broken,
        guard,
        pl.col("rule").replace_strict(codes, return_dtype=pl.String),
        pl.lit("the account was paused: ")
        + pl.col("reason")
        + pl.lit(", recorded ")
        + pl.col("created_at").dt.strftime("%Y-%m-%d %H:%M UTC"),
    )
