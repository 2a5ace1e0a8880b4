"""The HTML report: one self-contained file (plotly's bundled script inlined once, no CDN, nothing
fetched), in English and Simplified Chinese with a switch inside the file.

It draws what `service.report_data` computed: KPI cards, the roll-rate heat map, recovery curves by
experiment arm, contacts by the debtor's local hour against the allowed window, and blocks and
deferrals by reason. Money is formatted for each language by Babel."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from recoup.analytics import formats, schemas
from recoup.analytics.service import ReportData
from recoup.risk.performance import ModelReport
from recoup.strategy.learning_view import Estimate
from recoup.strategy.service import LearningSummary

LANGUAGES = ("en", "zh-CN")
BABEL = {"en": "en", "zh-CN": "zh_CN"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Collections report",
        "period": "Period",
        "accounts": "Accounts",
        "recovery_amount": "Recovery rate by amount",
        "recovery_count": "Recovery rate by count",
        "collected": "Collected on overdue money",
        "overdue": "Overdue at the start or falling overdue",
        "rpc": "Right-party contact rate",
        "attempts": "Contact attempts",
        "promises": "Promises kept",
        "cost": "Cost per unit collected",
        "total_cost": "Cost of contacts and agents",
        "complaints": "Complaints per 1,000 contacts",
        "opt_outs": "Opt-outs per 1,000 contacts",
        "roll_rates": "Roll rates, month over month",
        "from_bucket": "Bucket at a snapshot",
        "to_bucket": "Bucket a month later",
        "curves": "Recovery over time, by experiment arm",
        "day": "Business day",
        "recovered_share": "Mean share of overdue money recovered",
        "hours": "Contacts by the debtor's local hour",
        "hour": "Local hour",
        "contacts": "Contacts",
        "allowed": "Allowed window",
        "blocks": "Blocked and deferred contacts by reason",
        "blocks_note": "A contact held for two reasons counts under each.",
        "reason": "Reason",
        "cure": "Cure rate by bucket",
        "bucket": "Bucket",
        "cured": "Cured",
        "rate": "Rate",
        "channels": "Contacts by channel and outcome",
        "channel": "Channel",
        "purpose": "Purpose",
        "status": "Status",
        "workload": "Agent workload",
        "queue": "Queue",
        "tasks": "Tasks",
        "experiments": "Experiments",
        "experiment": "Experiment",
        "arm": "Arm",
        "mean_rate": "Mean recovery",
        "diff": "Difference (95 % interval)",
        "uplift": "Uplift",
        "verdict": "Reading",
        "verdict_reference": "–",
        "verdict_unclear": "no clear difference",
        "verdict_higher": "higher",
        "verdict_lower": "lower",
        "reference": "reference",
        "all": "all accounts",
        "none": "Nothing recorded in the period.",
        "blocked": "blocked",
        "deferred": "deferred",
        "definitions": "Definitions are in docs/analytics.md. Generated",
        "fairness": "Fairness of treatment, at the same risk",
        "voice": "The debtor's voice: the post-repayment survey and the learning centre",
        "survey_n": "Survey answers",
        "score": "Score",
        "treated": "How were you treated",
        "clear": "Was it clear",
        "again": "Would use self-service again (yes / no)",
        "article": "Article",
        "language": "Language",
        "reads": "Reads",
        "fairness_alert": "Alert:",
        "fairness_none": "No group was pursued more than {ratio} times as hard as others at the "
        "same risk (with at least {accounts} accounts each side and a difference beyond chance).",
        "fairness_basis": "Risk bands",
        "attribute": "Attribute",
        "group": "Group",
        "attempts_per_day": "Attempts a day",
        "calls_per_day": "Calls a day",
        "firm_share": "Firm tone",
        "cured_share": "Cured",
        "reading_alert": "pursued harder",
        "reading_ok": "no alert",
        "models": "Risk models: performance over time",
        "model": "Model",
        "cv_auc": "Cross-validated AUC",
        "auc_since": "AUC on outcomes since",
        "matured": "Scores with outcomes (days)",
        "auc_day": "AUC of the day's scores",
        "calibration": "Calibration on the outcomes (deciles)",
        "predicted": "Predicted",
        "observed": "Observed",
        "no_matured": "No scoring day has reached its horizon yet.",
        "learning": "The learning strategy: arms and the holdout's uplift",
        "stage": "Stage",
        "pulls": "Pulls",
        "mean_reward": "Mean reward (95 % interval)",
        "leader": "Leading arm per context",
        "context": "Context",
        "uplift_learner": "Learner's decisions",
        "uplift_holdout": "Random holdout",
        "uplift_diff": "Difference (95 % interval)",
        "recovered": "Recovered per decision",
        "decisions": "Decisions",
    },
    "zh-CN": {
        "title": "催收报告",
        "period": "统计期间",
        "accounts": "账户数",
        "recovery_amount": "回收率（按金额）",
        "recovery_count": "回收率（按户数）",
        "collected": "逾期金额回收",
        "overdue": "期初逾期及期内新增逾期",
        "rpc": "本人有效触达率",
        "attempts": "触达尝试次数",
        "promises": "承诺还款兑现率",
        "cost": "单位回收成本",
        "total_cost": "触达与坐席成本",
        "complaints": "每千次触达投诉数",
        "opt_outs": "每千次触达退订数",
        "roll_rates": "迁徙率（逐月）",
        "from_bucket": "观察日账龄",
        "to_bucket": "一个月后账龄",
        "curves": "回收曲线（按实验组）",
        "day": "业务日",
        "recovered_share": "逾期金额平均回收比例",
        "hours": "按债务人当地时间的触达分布",
        "hour": "当地时间（小时）",
        "contacts": "触达次数",
        "allowed": "允许时段",
        "blocks": "拦截与延后的触达（按原因）",
        "blocks_note": "同一触达因两个原因被拦下时，在每个原因下各计一次。",
        "reason": "原因",
        "cure": "各账龄段出催率",
        "bucket": "账龄",
        "cured": "出催",
        "rate": "比率",
        "channels": "各渠道触达结果",
        "channel": "渠道",
        "purpose": "用途",
        "status": "状态",
        "workload": "坐席工作量",
        "queue": "队列",
        "tasks": "任务数",
        "experiments": "实验",
        "experiment": "实验",
        "arm": "实验组",
        "mean_rate": "平均回收率",
        "diff": "差异（95% 置信区间）",
        "uplift": "提升",
        "verdict": "结论",
        "verdict_reference": "–",
        "verdict_unclear": "无明显差异",
        "verdict_higher": "更高",
        "verdict_lower": "更低",
        "reference": "对照",
        "all": "全部账户",
        "none": "本期间无记录。",
        "blocked": "拦截",
        "deferred": "延后",
        "definitions": "指标定义见 docs/analytics.md。生成于",
        "fairness": "公平对待（风险相同的情况下）",
        "voice": "客户之声：还款后问卷与学习中心",
        "survey_n": "问卷回答数",
        "score": "分数",
        "treated": "对待方式",
        "clear": "是否清楚",
        "again": "以后是否愿意自助办理（愿意 / 不愿意）",
        "article": "文章",
        "language": "语言",
        "reads": "阅读次数",
        "fairness_alert": "警示：",
        "fairness_none": "没有任何群体受到的催收强度超过风险相同的其他客户的 {ratio} 倍"
        "（双方各至少 {accounts} 个账户，且差异超出偶然）。",
        "fairness_basis": "风险分组",
        "attribute": "属性",
        "group": "群体",
        "attempts_per_day": "每日触达尝试",
        "calls_per_day": "每日外呼",
        "firm_share": "严厉措辞占比",
        "cured_share": "出催",
        "reading_alert": "催收强度偏高",
        "reading_ok": "无警示",
        "models": "风险模型：随时间的表现",
        "model": "模型",
        "cv_auc": "交叉验证 AUC",
        "auc_since": "此后实际结果 AUC",
        "matured": "已有结果的评分（天数）",
        "auc_day": "每日评分的 AUC",
        "calibration": "实际结果上的校准（十分位）",
        "predicted": "预测",
        "observed": "实际",
        "no_matured": "尚无评分日满观察期。",
        "learning": "学习策略：臂与保留组对比的提升",
        "stage": "阶段",
        "pulls": "选择次数",
        "mean_reward": "平均回报（95% 置信区间）",
        "leader": "各上下文的领先臂",
        "context": "上下文",
        "uplift_learner": "学习者的决策",
        "uplift_holdout": "随机保留组",
        "uplift_diff": "差异（95% 置信区间）",
        "recovered": "每决策回收",
        "decisions": "决策数",
    },
}


class UnknownLanguage(ValueError):
    pass


def _both(key: str) -> str:
    """A label in every language, the inactive ones hidden by the page's style."""
    return "".join(
        f'<span data-l="{lang}">{html.escape(LABELS[lang][key])}</span>' for lang in LANGUAGES
    )


def _each(render: Callable[[str], str]) -> str:
    """Text that differs by language (formatted numbers and money)."""
    return "".join(
        f'<span data-l="{lang}">{html.escape(render(lang))}</span>' for lang in LANGUAGES
    )


def _pct(value: float | None, lang: str) -> str:
    return formats.pct(value, lang)


def _card(key: str, value: Callable[[str], str], note: Callable[[str], str] | None = None) -> str:
    extra = f'<div class="note">{_each(note)}</div>' if note else ""
    return (
        f'<div class="card"><div class="label">{_both(key)}</div>'
        f'<div class="value">{_each(value)}</div>{extra}</div>'
    )


def _cards(k: schemas.Kpis) -> str:
    main = k.recovery[0] if k.recovery else None
    cards = [
        _card(
            "recovery_amount",
            lambda lang: formats.kpi("recovery_rate", main.rate_amount if main else None, lang),
            (
                lambda lang: (
                    f"{formats.money(main.collected_minor, main.currency, lang)} / "
                    f"{formats.money(main.base_minor, main.currency, lang)}"
                )
            )
            if main
            else None,
        ),
        _card(
            "recovery_count",
            lambda lang: formats.kpi(
                "recovery_count_rate", main.rate_count if main else None, lang
            ),
            (lambda lang: f"{main.accounts_paying:,} / {main.accounts:,}") if main else None,
        ),
        _card(
            "rpc",
            lambda lang: formats.kpi("right_party_rate", k.right_party_rate, lang),
            lambda lang: f"{k.conversations:,} / {k.calls:,}",
        ),
        _card(
            "promises",
            lambda lang: formats.kpi("promises_kept", k.promises.rate, lang),
            lambda lang: f"{k.promises.kept:,} / {k.promises.kept + k.promises.broken:,}",
        ),
        _card(
            "cost",
            lambda lang: formats.kpi("cost_per_unit_collected", k.costs.per_unit_collected, lang),
            lambda lang: formats.money(k.costs.total_minor, k.costs.currency, lang),
        ),
        _card(
            "complaints",
            lambda lang: formats.kpi("complaints_per_1000", k.complaints_per_1000, lang),
        ),
        _card("opt_outs", lambda lang: formats.kpi("opt_outs_per_1000", k.opt_outs_per_1000, lang)),
        _card("accounts", lambda lang: f"{k.accounts:,}"),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


# -- charts --------------------------------------------------------------------------------------

# Per figure, the layout keys and trace names to translate when the reader switches language.
Translations = dict[str, dict[str, dict[str, str]]]


def _axes(x: str, y: str) -> dict[str, dict[str, str]]:
    return {
        lang: {"xaxis.title.text": LABELS[lang][x], "yaxis.title.text": LABELS[lang][y]}
        for lang in LANGUAGES
    }


def _layout(fig: go.Figure, lang: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=380,
        margin={"l": 60, "r": 20, "t": 20, "b": 50},
        xaxis_title=LABELS[lang][x],
        yaxis_title=LABELS[lang][y],
        font={"family": "system-ui, 'PingFang SC', 'Noto Sans CJK SC', sans-serif"},
    )
    return fig


def _roll_figure(r: schemas.RollRates, lang: str) -> go.Figure | None:
    if not r.cells:
        return None
    buckets = r.buckets
    share = {(c.from_bucket, c.to_bucket): c for c in r.cells}
    z = [[share[(f, t)].share if (f, t) in share else None for t in buckets] for f in buckets]
    text = [
        [
            f"{share[(f, t)].share:.1%} ({share[(f, t)].accounts:,})" if (f, t) in share else ""
            for t in buckets
        ]
        for f in buckets
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=buckets,
            y=buckets,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            hoverongaps=False,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, lang, "to_bucket", "from_bucket")


def _curve_figure(curves: pl.DataFrame, lang: str) -> go.Figure | None:
    if curves.height == 0:
        return None
    fig = go.Figure()
    for (experiment, arm), part in sorted(
        curves.partition_by("experiment", "arm", as_dict=True).items()
    ):
        name = LABELS[lang]["all"] if arm == "all" and not experiment else f"{experiment}: {arm}"
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in part["day"].to_list()],
                y=part["rate"].to_list(),
                mode="lines",
                name=name,
                line={"dash": "dot"} if arm == "holdout" else {},
            )
        )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return _layout(fig, lang, "day", "recovered_share")


def _hours_figure(k: schemas.Kpis, lang: str) -> go.Figure | None:
    if not any(h.contacts for h in k.local_hours):
        return None
    fig = go.Figure(
        go.Bar(
            x=[h.hour for h in k.local_hours],
            y=[h.contacts for h in k.local_hours],
            name=LABELS[lang]["contacts"],
            marker_color="#3b6fb6",
        )
    )
    if k.allowed_windows:
        w = k.allowed_windows[0]  # the jurisdiction with the most contacts
        fig.add_vrect(
            x0=w.start_minute / 60 - 0.5,
            x1=w.end_minute / 60 - 0.5,
            fillcolor="#2e9d5b",
            opacity=0.12,
            line_width=0,
        )
    fig.update_xaxes(range=[-0.5, 23.5], dtick=1)
    return _layout(fig, lang, "hour", "contacts")


def _blocks_figure(k: schemas.Kpis, lang: str) -> go.Figure | None:
    if not k.held:
        return None
    fig = go.Figure()
    for status in ("blocked", "deferred"):
        rows = [h for h in k.held if h.status == status]
        if rows:
            fig.add_trace(
                go.Bar(
                    y=[h.reason for h in rows],
                    x=[h.contacts for h in rows],
                    orientation="h",
                    name=LABELS[lang][status],
                )
            )
    fig.update_yaxes(autorange="reversed")
    reasons = len({h.reason for h in k.held})
    fig = _layout(fig, lang, "contacts", "reason")
    fig.update_layout(barmode="stack", height=140 + 36 * reasons)
    return fig


def _names(key_by_trace: list[str]) -> dict[str, list[str]]:
    return {lang: [LABELS[lang][k] for k in key_by_trace] for lang in LANGUAGES}


# -- tables --------------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f'<p class="empty">{_both("none")}</p>'
    head = "".join(f"<th>{_both(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cure_table(k: schemas.Kpis) -> str:
    return _table(
        ["bucket", "accounts", "cured", "rate"],
        [
            [
                html.escape(c.bucket),
                f"{c.accounts:,}",
                f"{c.cured:,}",
                _each(lambda lang, c=c: _pct(c.rate, lang)),  # type: ignore[misc]
            ]
            for c in k.cure
        ],
    )


def _channel_table(k: schemas.Kpis) -> str:
    return _table(
        ["channel", "purpose", "status", "contacts"],
        [
            [
                html.escape(c.channel),
                html.escape(c.purpose),
                html.escape(c.status),
                f"{c.contacts:,}",
            ]
            for c in k.contacts
        ],
    )


def _workload_table(k: schemas.Kpis) -> str:
    return _table(
        ["queue", "status", "tasks"],
        [[html.escape(t.queue), html.escape(t.status), f"{t.tasks:,}"] for t in k.agent_tasks],
    )


def arm_figures(a: schemas.ArmResult) -> tuple[str, str]:
    """An arm's difference with its 95 % interval, and its uplift, as the tables show them (a dash
    for the reference arm)."""
    diff = (
        "–"
        if a.reference or a.diff is None
        else f"{a.diff:+.1%} ({a.ci_low:+.1%} … {a.ci_high:+.1%})"
    )
    return diff, "–" if a.uplift is None else f"{a.uplift:+.1%}"


def _experiment_table(e: schemas.Experiments) -> str:
    rows = []
    for x in e.experiments:
        for a in x.arms:
            diff, uplift = arm_figures(a)
            rows.append(
                [
                    html.escape(x.experiment),
                    html.escape(a.arm) + (f" ({_both('reference')})" if a.reference else ""),
                    f"{a.accounts:,}",
                    _each(lambda lang, a=a: _pct(a.mean_rate, lang)),  # type: ignore[misc]
                    diff,
                    uplift,
                    _both(f"verdict_{a.verdict}"),
                ]
            )
    return _table(["experiment", "arm", "accounts", "mean_rate", "diff", "uplift", "verdict"], rows)


def _fairness_section(f: schemas.Fairness | None) -> str:
    """The alerts in words, then each group's intensity and cure share with its ratio to others
    at the same risk."""
    if f is None:
        return f'<p class="empty">{_both("none")}</p>'
    if f.alerts:
        alerts = "".join(
            f"<li><strong>{_both('fairness_alert')}</strong> "
            + "".join(
                f'<span data-l="{lang}">{html.escape(a.words[lang])}</span>' for lang in LANGUAGES
            )
            + "</li>"
            for a in f.alerts
        )
        head = f'<ul class="alerts">{alerts}</ul>'
    else:
        head = (
            "<p>"
            + _each(
                lambda lang: LABELS[lang]["fairness_none"].format(
                    ratio=f.ratio_threshold, accounts=f.min_accounts
                )
            )
            + "</p>"
        )

    def cell(g: schemas.FairnessGroup, measure: str, share: bool) -> str:
        m = next((x for x in g.measures if x.measure == measure), None)
        if m is None or m.value is None:
            return "–"
        value = f"{m.value:.1%}" if share else f"{m.value:.2f}"
        return value + ("" if m.ratio is None else f" (×{m.ratio:.2f})")

    rows = [
        [
            html.escape(g.attribute),
            html.escape(g.group),
            f"{g.accounts:,}",
            cell(g, "attempts_per_day", False),
            cell(g, "calls_per_day", False),
            cell(g, "firm_share", True),
            cell(g, "cured", True),
            _both("reading_alert") if any(m.alert for m in g.measures) else _both("reading_ok"),
        ]
        for g in f.groups
    ]
    bands = ", ".join(f"{html.escape(b.band)} ({b.accounts:,})" for b in f.bands)
    table = _table(
        [
            "attribute",
            "group",
            "accounts",
            "attempts_per_day",
            "calls_per_day",
            "firm_share",
            "cured_share",
            "verdict",
        ],
        rows,
    )
    return f'{head}<p class="note">{_both("fairness_basis")}: {bands}</p>{table}'


# -- the learning: models over time, the bandit's arms, the holdout's uplift --------------------


def _voice_section(survey: schemas.Survey, reads: schemas.ArticleReads) -> str:
    """The survey's distribution (counts only: the answers' words never leave the database) and
    the learning centre's reads per article and language."""
    treated = {c.score: c.count for c in survey.treated}
    clear = {c.score: c.count for c in survey.clear}
    scores = _table(
        ["score", "treated", "clear"],
        [[str(k), str(treated.get(k, 0)), str(clear.get(k, 0))] for k in sorted(treated)]
        if survey.n
        else [],
    )
    head = (
        f'<p class="note">{_both("survey_n")}: {survey.n} · {_both("again")}: '
        f"{survey.self_service_again_yes} / {survey.self_service_again_no}</p>"
    )
    read_rows = [
        [html.escape(r.article), html.escape(r.language), str(r.reads)] for r in reads.reads
    ]
    return head + scores + _table(["article", "language", "reads"], read_rows)


def _auc_figure(models: list[ModelReport], lang: str) -> go.Figure | None:
    shown = [m for m in models if m.performance.days]
    if not shown:
        return None
    fig = go.Figure()
    for m in shown:
        days = m.performance.days
        fig.add_trace(
            go.Scatter(
                x=[d.as_of_date.isoformat() for d in days],
                y=[d.auc for d in days],
                mode="lines+markers",
                name=f"{m.model.kind} v{m.model.version}",
            )
        )
    fig.update_yaxes(range=[0.4, 1.0])
    return _layout(fig, lang, "day", "auc_day")


def _dec(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _models_table(models: list[ModelReport]) -> str:
    return _table(
        ["model", "status", "cv_auc", "auc_since", "matured"],
        [
            [
                html.escape(f"{m.model.kind} v{m.model.version}"),
                html.escape(m.model.status),
                _dec(m.cv_auc),
                _dec(m.performance.auc),
                f"{m.performance.n:,} ({len(m.performance.days)})",
            ]
            for m in models
        ],
    )


def _calibration_tables(models: list[ModelReport]) -> str:
    out = []
    for m in models:
        if not m.performance.reliability:
            continue
        rows = [
            [
                _each(lambda lang, b=b: _pct(b.predicted, lang)),  # type: ignore[misc]
                _each(lambda lang, b=b: _pct(b.observed, lang)),  # type: ignore[misc]
                f"{b.n:,}",
            ]
            for b in m.performance.reliability
        ]
        out.append(
            f"<h3>{_both('calibration')} · {html.escape(m.model.kind)} v{m.model.version}</h3>"
            + _table(["predicted", "observed", "accounts"], rows)
        )
    return "".join(out)


def interval_text(e: Estimate, digits: int = 2) -> str:
    if e.mean is None:
        return "–"
    if e.low is None or e.high is None:
        return f"{e.mean:,.{digits}f}"
    return f"{e.mean:,.{digits}f} ({e.low:,.{digits}f} … {e.high:,.{digits}f})"


def diff_text(diff: float | None, low: float | None, high: float | None, digits: int = 2) -> str:
    if diff is None:
        return "–"
    if low is None or high is None:
        return f"{diff:+,.{digits}f}"
    return f"{diff:+,.{digits}f} ({low:+,.{digits}f} … {high:+,.{digits}f})"


def _learning_tables(learning: LearningSummary) -> str:
    u = learning.uplift
    uplift = _table(
        ["arm", "decisions", "mean_reward", "recovered"],
        [
            [
                _both("uplift_learner"),
                f"{u.learner.n:,}",
                interval_text(u.learner),
                interval_text(u.recovered_learner, 0),
            ],
            [
                _both("uplift_holdout"),
                f"{u.holdout.n:,}",
                interval_text(u.holdout),
                interval_text(u.recovered_holdout, 0),
            ],
            [
                _both("uplift_diff"),
                "",
                diff_text(u.diff, u.low, u.high),
                diff_text(u.recovered_diff, u.recovered_low, u.recovered_high, 0),
            ],
        ]
        if u.learner.n or u.holdout.n
        else [],
    )
    arms = _table(
        ["stage", "arm", "pulls", "mean_reward"],
        [
            [
                html.escape(f"{a.policy} · {a.stage}"),
                html.escape(a.arm),
                f"{a.estimate.n:,}",
                interval_text(a.estimate),
            ]
            for a in learning.arms
        ],
    )
    leaders = _table(
        ["stage", "context", "arm", "pulls", "mean_reward"],
        [
            [
                html.escape(f"{x.policy} · {x.stage}"),
                html.escape(x.context),
                html.escape(x.arm),
                f"{x.estimate.n:,}",
                interval_text(x.estimate),
            ]
            for x in learning.leaders
        ],
    )
    return uplift + arms + f"<h3>{_both('leader')}</h3>" + leaders


# -- the page ------------------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 0;
       color: #1d2430; background: #f5f7fa; }
header { background: #1f3b63; color: #fff; padding: 1rem 2rem; display: flex;
         justify-content: space-between; align-items: center; }
header h1 { margin: 0; font-size: 1.4rem; }
main { padding: 1rem 2rem 3rem; max-width: 1200px; margin: auto; }
section { background: #fff; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0;
          box-shadow: 0 1px 2px rgba(0,0,0,.06); }
h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: .75rem; }
.card { background: #fff; border-radius: 8px; padding: .9rem 1rem; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.card .label { font-size: .85rem; color: #5a6577; }
.card .value { font-size: 1.6rem; font-weight: 600; margin: .25rem 0; }
.card .note { font-size: .8rem; color: #5a6577; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e6e9ef; }
td:nth-child(n+3) { font-variant-numeric: tabular-nums; }
.switch button { background: transparent; color: #fff; border: 1px solid #fff; border-radius: 4px;
                 padding: .25rem .6rem; cursor: pointer; margin-left: .25rem; }
.switch button.on { background: #fff; color: #1f3b63; }
.empty, footer { color: #5a6577; font-size: .85rem; }
html[data-lang="en"] [data-l="zh-CN"], html[data-lang="zh-CN"] [data-l="en"] { display: none; }
"""

SCRIPT = """
function setLang(lang) {
  document.documentElement.dataset.lang = lang;
  document.documentElement.lang = lang;
  document.querySelectorAll('.switch button').forEach(function (b) {
    b.classList.toggle('on', b.dataset.set === lang);
  });
  Object.keys(RECOUP_CHARTS).forEach(function (id) {
    var div = document.getElementById(id), spec = RECOUP_CHARTS[id];
    if (!div || !window.Plotly) { return; }
    if (spec.layout) { Plotly.relayout(div, spec.layout[lang]); }
    if (spec.names) { Plotly.restyle(div, {name: spec.names[lang]}); }
  });
}
document.querySelectorAll('.switch button').forEach(function (b) {
  b.addEventListener('click', function () { setLang(b.dataset.set); });
});
"""


def render(
    data: ReportData,
    *,
    lang: str = "en",
    generated_at: dt.datetime,
    fairness: schemas.Fairness | None = None,
    models: list[ModelReport] | None = None,
    learning: LearningSummary | None = None,
    voice: tuple[schemas.Survey, schemas.ArticleReads] | None = None,
) -> str:
    """The report as one HTML document, opening in `lang` (en or zh-CN); with `fairness`
    (`analytics.fairness`), the models' performance over time, the learning strategy's arms
    and uplift, and the debtor's voice (`analytics.voice`), their sections when given."""
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"the report speaks {' or '.join(LANGUAGES)}, not {lang!r}")
    k = data.kpis
    charts: dict[str, dict[str, object]] = {}
    inlined = False

    def chart(div_id: str, fig: go.Figure | None, spec: dict[str, object]) -> str:
        nonlocal inlined
        if fig is None:
            return f'<p class="empty">{_both("none")}</p>'
        charts[div_id] = spec
        out = str(
            pio.to_html(
                fig,
                full_html=False,
                include_plotlyjs=not inlined,  # the bundled script, inlined once
                div_id=div_id,
                config={"displaylogo": False, "responsive": True},
            )
        )
        inlined = True
        return out

    roll = chart(
        "roll-rates",
        _roll_figure(data.roll_rates, lang),
        {"layout": _axes("to_bucket", "from_bucket")},
    )
    curve_fig = _curve_figure(data.curves, lang)
    curve_names = (
        None
        if curve_fig is None
        else {
            lg: [
                LABELS[lg]["all"] if t.name == LABELS[lang]["all"] else str(t.name)
                for t in curve_fig.data
            ]
            for lg in LANGUAGES
        }
    )
    curves = chart(
        "recovery-curves",
        curve_fig,
        {"layout": _axes("day", "recovered_share"), "names": curve_names},
    )
    hours = chart(
        "local-hours",
        _hours_figure(k, lang),
        {"layout": _axes("hour", "contacts"), "names": _names(["contacts"])},
    )
    block_fig = _blocks_figure(k, lang)
    block_keys = [s for s in ("blocked", "deferred") if any(h.status == s for h in k.held)]
    blocks = chart(
        "blocks",
        block_fig,
        {"layout": _axes("contacts", "reason"), "names": _names(block_keys)},
    )
    window_note = ""
    if k.allowed_windows:
        w = k.allowed_windows[0]
        window_note = (
            f'<p class="note">{_both("allowed")} ({html.escape(w.jurisdiction)}): '
            f"{w.start_minute // 60:02d}:{w.start_minute % 60:02d}–"
            f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}</p>"
        )
    period = f"{k.period.from_date.isoformat()} – {k.period.to_date.isoformat()}"
    # Names from the data (experiments, arms) must not close the script element they sit in.
    charts_json = json.dumps(charts, ensure_ascii=False).replace("</", "<\\/")
    buttons = "".join(
        f'<button type="button" data-set="{lg}" class="{"on" if lg == lang else ""}">'
        f"{'English' if lg == 'en' else '中文'}</button>"
        for lg in LANGUAGES
    )
    sections = [
        ("cure", _cure_table(k)),
        ("roll_rates", roll),
        ("curves", curves),
        ("experiments", _experiment_table(data.experiments)),
        ("hours", window_note + hours),
        ("blocks", f'<p class="note">{_both("blocks_note")}</p>' + blocks),
        ("channels", _channel_table(k)),
        ("workload", _workload_table(k)),
        ("fairness", _fairness_section(fairness)),
    ]
    if models is not None:
        auc = chart(
            "model-auc",
            _auc_figure(models, lang),
            {"layout": _axes("day", "auc_day")},
        )
        sections.append(("models", _models_table(models) + auc + _calibration_tables(models)))
    if learning is not None:
        sections.append(("learning", _learning_tables(learning)))
    if voice is not None:
        sections.append(("voice", _voice_section(*voice)))
    body = "".join(
        f"<section><h2>{_both(key)}</h2>{content}</section>" for key, content in sections
    )
    return f"""<!DOCTYPE html>
<html lang="{lang}" data-lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(LABELS[lang]["title"])} {period}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>{_both("title")} · {period}</h1><div class="switch">{buttons}</div></header>
<main>
{_cards(k)}
{body}
<footer>{_both("definitions")} {html.escape(generated_at.isoformat(timespec="seconds"))}</footer>
</main>
<script>var RECOUP_CHARTS = {charts_json};
{SCRIPT}</script>
</body>
</html>
"""
