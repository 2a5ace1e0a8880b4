"""The manager's dashboard: the analytics service's figures of a period (the last 7, 30 or 90 days,
or from and to), for every account or those of one product or segment, each KPI beside its target
(`analytics/targets.yaml`, or `RECOUP_KPI_TARGETS_FILE`) with a missed one marked in words. Charts
are drawn by Chart.js from a JSON block (`static/dashboard.js`), each above the table that shows
without JavaScript. It only reads, through the same service as `GET /v1/analytics/...`."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from recoup.analytics import formats, schemas
from recoup.analytics import service as analytics_service
from recoup.analytics.stats import bucket_order
from recoup.console.base import StaffPage, page_for, render, translator
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.identity.permissions import Permission
from recoup.models import ContactStatus

router = APIRouter(include_in_schema=False)
Staff = Annotated[StaffPage, Depends(page_for(Permission.analytics_read))]

PRESETS = (7, 30, 90)
STATUSES = [s.value for s in ContactStatus]
CHANNELS = ("sms", "email", "push", "in_app", "call", "dial", "ai_call", "letter")
VERDICTS = ("reference", "unclear", "higher", "lower")


class Formats:
    """Numbers in the staff member's locale, by the rules every KPI surface shares
    (`analytics.formats`: rates as percentages, per 1,000 with two decimals, money by locale)."""

    def __init__(self, locale: str, points: str = "pp") -> None:
        self.locale = locale
        self.unit = points

    def pct(self, value: float | None, digits: int = 1) -> str:
        return formats.pct(value, self.locale, digits)

    def points(self, value: float | None) -> str:
        """A difference of two rates, in percentage points with its sign."""
        if value is None or math.isnan(value):
            return "—"
        text = format_decimal(value * 100, "+#,##0.0;-#,##0.0", locale=self.locale)
        return f"{text} {self.unit}"

    def dec(self, value: float | None, digits: int = 2) -> str:
        return formats.dec(value, self.locale, digits)

    def kpi(self, name: str, value: float | None) -> str:
        return formats.kpi(name, value, self.locale)

    def target(self, name: str, target: schemas.Target | None) -> str:
        if target is None:
            return ""
        bound = target.at_least if target.at_least is not None else target.at_most
        sign = "≥" if target.at_least is not None else "≤"
        return f"{sign} {self.kpi(name, bound)}"


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _filters(
    request: Request, t: Any
) -> tuple[dict[str, str], dict[str, str], dt.date | None, dt.date | None, int | None]:
    """The query as typed (bounded), the errors by field, and the dates and preset it asks for."""
    q = request.query_params
    given = {k: (q.get(k) or "").strip()[:64] for k in ("from", "to", "days", "product", "segment")}
    errors: dict[str, str] = {}
    dates: dict[str, dt.date | None] = {}
    for name in ("from", "to"):
        dates[name] = _date(given[name]) if given[name] else None
        if given[name] and dates[name] is None:
            errors[name] = t("dashboard.error_date")
    days = None
    if given["days"]:
        if given["days"] in {str(n) for n in PRESETS}:
            days = int(given["days"])
        else:
            errors["days"] = t("dashboard.error_days")
    return given, errors, dates["from"], dates["to"], days


@router.get("/console/dashboard")
def dashboard(
    request: Request,
    staff: Staff,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    t = translator(staff.lang)
    given, errors, from_, to, days = _filters(request, t)
    context: dict[str, Any] = {
        "given": given,
        "errors": errors,
        "presets": PRESETS,
        "products": [],
        "segments": [],
    }
    period = scope = None
    if not errors:
        if days is not None and from_ is None:
            end = analytics_service.period(session, None, to, clock=clock).to_date
            from_, to = end - dt.timedelta(days=days - 1), end
        try:
            period = analytics_service.period(session, from_, to, clock=clock)
        except analytics_service.BadPeriod:
            errors["from"] = t("dashboard.error_period")
        try:
            scope = analytics_service.scope(session, given["product"], given["segment"])
        except analytics_service.BadScope as exc:
            field = "product" if str(exc).startswith("product") else "segment"
            errors[field] = t(f"dashboard.error_{field}")
    shown = period or analytics_service.period(session, None, None, clock=clock)
    context["products"], context["segments"] = analytics_service.choices(session, shown)
    if errors or period is None or scope is None:
        return render(request, staff, "dashboard/page.html", status=422, data=None, **context)
    data = analytics_service.report_data(session, period, scope=scope)
    targets = analytics_service.load_targets(settings.kpi_targets_file)
    context.update(_figures(data, targets, Formats(staff.locale, t("dashboard.pp")), t))
    # The dates the figures cover, in the fields: a preset or a default shows what it chose.
    given.update({"from": period.from_date.isoformat(), "to": period.to_date.isoformat()})
    context["period"] = period
    context["scope"] = scope
    return render(request, staff, "dashboard/page.html", data=data, **context)


def _label(t: Any, prefix: str, code: str) -> str:
    key = f"dashboard.{prefix}_{code}"
    text = t(key)
    return code if text == key else str(text)


def _kpi_label(t: Any, name: str) -> str:
    if name.startswith("cure."):
        return str(t("dashboard.kpi_cure", bucket=name.removeprefix("cure.")))
    return str(t(f"dashboard.kpi_{name}"))


def _figures(
    data: analytics_service.ReportData, targets: schemas.Targets, f: Formats, t: Any
) -> dict[str, Any]:
    k = data.kpis
    cards = [
        {
            "kpi": r.kpi,
            "label": _kpi_label(t, r.kpi),
            "value": f.kpi(r.kpi, r.value),
            "target": f.target(r.kpi, r.target),
            "met": r.met,
        }
        for r in analytics_service.readings(k, targets)
        if r.target is not None or not r.kpi.startswith("cure.")
    ]
    # Roll matrix: buckets in ageing order, each cell's row share and count, shaded in tenths.
    rolls = data.roll_rates
    cells = {(c.from_bucket, c.to_bucket): c for c in rolls.cells}
    buckets = bucket_order(rolls.buckets)
    matrix = [
        {
            "bucket": b,
            "cells": [
                {
                    "share": f.pct(cells[(b, to)].share) if (b, to) in cells else "—",
                    "accounts": cells[(b, to)].accounts if (b, to) in cells else 0,
                    "shade": round(cells[(b, to)].share * 10) if (b, to) in cells else 0,
                }
                for to in buckets
            ],
            "total": sum(c.accounts for (fb, _), c in cells.items() if fb == b),
        }
        for b in buckets
    ]
    # Contacts by channel and outcome (over both purposes), statuses in their life's order.
    counts: dict[str, dict[str, int]] = {}
    for c in k.contacts:
        counts.setdefault(c.channel, {}).setdefault(c.status, 0)
        counts[c.channel][c.status] += c.contacts
    statuses = [s for s in STATUSES if any(s in row for row in counts.values())]
    channels = sorted(counts, key=lambda c: (CHANNELS.index(c) if c in CHANNELS else 99, c))
    contact_rows = [
        {
            "channel": _label(t, "channel", ch),
            "counts": [counts[ch].get(s, 0) for s in statuses],
            "total": sum(counts[ch].values()),
        }
        for ch in channels
    ]
    curves = data.curves
    series: dict[str, list[float]] = {}
    days: list[dt.date] = []
    for experiment, arm, day, rate in curves.sort("experiment", "arm", "day").iter_rows():
        name = t("dashboard.curve_all") if not experiment else f"{experiment} · {arm}"
        series.setdefault(name, []).append(round(float(rate), 6))
        if not experiment:
            days.append(day)
    experiments = [
        {
            "name": e.experiment,
            "reference": e.reference_arm,
            "arms": [
                {
                    "arm": a.arm,
                    "accounts": a.accounts,
                    "mean": f.pct(a.mean_rate),
                    "paying": f.pct(a.paying_share),
                    "diff": f.points(a.diff),
                    "ci": (
                        f"[{f.points(a.ci_low)}, {f.points(a.ci_high)}]"
                        if a.ci_low is not None
                        else "—"
                    ),
                    "uplift": f.pct(a.uplift) if a.uplift is not None else "—",
                    "verdict": a.verdict,
                }
                for a in e.arms
            ],
        }
        for e in data.experiments.experiments
    ]
    charts = {
        "cure": {
            "title": t("dashboard.chart_cure"),
            "labels": [c.bucket for c in k.cure],
            "values": [round(c.rate or 0.0, 6) for c in k.cure],
            "percent": True,
        },
        "contacts": {
            "title": t("dashboard.chart_contacts"),
            "labels": [row["channel"] for row in contact_rows],
            "series": [
                {
                    "name": _label(t, "status", s),
                    "values": [counts[ch].get(s, 0) for ch in channels],
                }
                for s in statuses
            ],
        },
        "curves": {
            "title": t("dashboard.chart_curves"),
            "labels": [d.isoformat() for d in days],
            "series": [{"name": n, "values": v} for n, v in series.items()],
            "percent": True,
        },
    }
    return {
        "cards": cards,
        "missed": sum(1 for c in cards if c["met"] is False),
        "f": f,
        "buckets": buckets,
        "matrix": matrix,
        "statuses": [_label(t, "status", s) for s in statuses],
        "contact_rows": contact_rows,
        "curve_days": days,
        "curve_series": series,
        "experiments": experiments,
        "charts": charts,
        "label": lambda prefix, code: _label(t, prefix, code),
    }
