"""Fairness of treatment over a period (PIPL art. 24: automated decisions fair in their effect):
how hard each age band, region and sex was pursued (contact attempts, delivered contacts and calls
per day in collection, the share of attempts in a firm tone) and how their accounts ended (paused,
cured, recovered), against the rest of the portfolio at the same risk. The arithmetic is
`parity.py`'s; this module reads (`repository.py`) and words the alerts.

Age and sex are read here and nowhere else that decides: they are no fact of the strategy and no
feature of the risk models (docs/analytics.md#fairness says why). A customer whose birth year,
sex or region is not on file is in the group "unknown"."""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from recoup.analytics import parity, schemas, stats
from recoup.analytics import repository as repo

RISK_BANDS = 5

ATTRIBUTE_WORDS: dict[str, dict[str, str]] = {
    "en": {"age_band": "Age band", "region": "Region", "sex": "Sex"},
    "zh-CN": {"age_band": "年龄段", "region": "地区", "sex": "性别"},
}
MEASURE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "attempts_per_day": "contact attempts per day in collection",
        "delivered_per_day": "contacts reaching them per day in collection",
        "calls_per_day": "calls per day in collection",
        "firm_share": "share of contacts in a firm tone",
        "paused": "share of accounts paused",
        "cured": "share of accounts cured",
        "recovery": "share of overdue money recovered",
    },
    "zh-CN": {
        "attempts_per_day": "每个催收日的触达尝试次数",
        "delivered_per_day": "每个催收日送达的触达次数",
        "calls_per_day": "每个催收日的外呼次数",
        "firm_share": "措辞严厉的触达占比",
        "paused": "暂停催收的账户占比",
        "cured": "出催的账户占比",
        "recovery": "逾期金额回收比例",
    },
}


def who(attribute: str, group: str, language: str) -> str:
    """The group as a sentence names it."""
    if language == "zh-CN":
        if group == parity.UNKNOWN:
            return f"{ATTRIBUTE_WORDS['zh-CN'][attribute]}未知的客户"
        if attribute == "age_band":
            return f"{group} 岁的客户"
        if attribute == "sex":
            return {"F": "女性客户", "M": "男性客户"}.get(group, f"性别为 {group} 的客户")
        return f"地区 {group} 的客户"
    if group == parity.UNKNOWN:
        return f"Customers whose {ATTRIBUTE_WORDS['en'][attribute].lower()} is unknown"
    if attribute == "age_band":
        return f"Customers aged {group}"
    if attribute == "sex":
        return {"F": "Women", "M": "Men"}.get(group, f"Customers of sex {group}")
    return f"Customers in region {group}"


def alert_words(row: dict[str, Any]) -> dict[str, str]:
    """An alert in both languages: who, what, how many times, on how many accounts, and the
    interval that makes it more than chance."""
    attribute, group, measure = str(row["attribute"]), str(row["group"]), str(row["measure"])
    ratio, accounts = float(row["ratio"]), int(row["accounts"])
    low, high = float(row["ci_low"]), float(row["ci_high"])
    share = measure == "firm_share"
    span_en = f"{low:+.1%} to {high:+.1%}" if share else f"{low:+.2f} to {high:+.2f} a day"
    span_zh = f"{low:+.1%} 至 {high:+.1%}" if share else f"每日 {low:+.2f} 至 {high:+.2f} 次"
    return {
        "en": (
            f"{who(attribute, group, 'en')} had {ratio:.1f} times the "
            f"{MEASURE_WORDS['en'][measure]} of other customers at the same risk "
            f"({accounts:,} accounts; 95 % interval of the difference {span_en})."
        ),
        "zh-CN": (
            f"在风险相同的情况下，{who(attribute, group, 'zh-CN')}的"
            f"{MEASURE_WORDS['zh-CN'][measure]}是其他客户的 {ratio:.1f} 倍"
            f"（{accounts:,} 个账户；差异的 95% 区间为 {span_zh}）。"
        ),
    }


def units(session: Session, p: schemas.Period) -> tuple[pl.DataFrame, str]:
    """One row per account in collection in the period: customer_id, band, the attributes, the
    measures; and the risk basis ("p_pay" or "bucket")."""
    accounts = repo.observed_accounts(session)
    events = repo.bucket_events(session, p.to_date)
    late = parity.in_collection(events, accounts, p.from_date, p.to_date)
    late = late.join(accounts.select("account_id", "customer_id"), on="account_id", how="left")
    contacts = repo.contacts_per_account(session, p.from_date, p.to_date)
    paused = repo.paused_accounts(session, p.from_date, p.to_date)
    bills = repo.overdue_bills(session, p.from_date, p.to_date)
    adjusted = repo.later_adjustments(session, p.from_date, p.to_date)
    bills = (
        bills.join(adjusted, on="bill_id", how="left")
        .with_columns(pl.col("amount_minor") - pl.col("adjusted_minor").fill_null(0))
        .drop("adjusted_minor")
    )
    recovery = stats.account_recovery(bills, repo.collections(session, p.from_date, p.to_date))
    scores = repo.p_pay_scores(session, p.from_date, p.to_date)
    scores = scores.join(late.select("account_id"), on="account_id", how="semi")
    basis = "p_pay" if scores.height else "bucket"
    bands = parity.risk_bands(scores, RISK_BANDS)
    people = parity.attributes(repo.customer_attributes(session), p.to_date.year)
    days = pl.col("days").cast(pl.Float64)
    frame = (
        late.join(contacts, on="account_id", how="left")
        .join(bands, on="account_id", how="left")
        .join(people, on="customer_id", how="left")
        .join(recovery, on="account_id", how="left")
        .with_columns(
            pl.col("attempts", "delivered", "calls", "firm").fill_null(0),
            # An account without a score (scored accounts exist) is banded by its bucket.
            pl.coalesce("band", "entry_bucket").alias("band"),
            *(pl.col(a).fill_null(parity.UNKNOWN) for a in parity.ATTRIBUTES),
            pl.col("account_id").is_in(paused["account_id"].implode()).alias("paused"),
        )
        .with_columns(
            (pl.col("attempts") / days).alias("attempts_per_day"),
            (pl.col("delivered") / days).alias("delivered_per_day"),
            (pl.col("calls") / days).alias("calls_per_day"),
            pl.when(pl.col("attempts") > 0)
            .then(pl.col("firm") / pl.col("attempts"))
            .alias("firm_share"),
            pl.col("paused").cast(pl.Float64),
            pl.col("cured").cast(pl.Float64),
            pl.when(pl.col("base_minor") > 0)
            .then((pl.col("collected_minor") / pl.col("base_minor")).clip(upper_bound=1.0))
            .alias("recovery"),
        )
    )
    return frame, basis


def fairness(
    session: Session,
    p: schemas.Period,
    *,
    ratio: float = parity.RATIO,
    min_accounts: int = parity.MIN_ACCOUNTS,
) -> schemas.Fairness:
    """Every group of every attribute, each measure against the rest at the same risk, and the
    alerts: a group pursued harder (attempts or calls per day, firm share) beyond `ratio`, on at
    least `min_accounts` accounts each side, with the difference's 95 % interval above zero."""
    frame, basis = units(session, p)
    compared = parity.comparisons(frame, ratio=ratio, min_accounts=min_accounts)
    sizes = {
        (a, g): (n, d)
        for attribute in parity.ATTRIBUTES
        for a, g, n, d in frame.group_by(pl.col(attribute).alias("g"))
        .agg(pl.len().alias("n"), pl.col("days").sum().alias("d"))
        .select(pl.lit(attribute), "g", "n", "d")
        .iter_rows()
    }
    groups = []
    for (attribute, group), part in sorted(
        compared.partition_by("attribute", "group", as_dict=True).items(),
        key=lambda item: (parity.ATTRIBUTES.index(str(item[0][0])), _order(item[0])),
    ):
        n, d = sizes[(str(attribute), str(group))]
        rank = {m: i for i, m in enumerate(parity.MEASURES)}
        rows = sorted(part.iter_rows(named=True), key=lambda r: rank[r["measure"]])
        groups.append(
            schemas.FairnessGroup(
                attribute=str(attribute),
                group=str(group),
                accounts=int(n),
                account_days=int(d),
                measures=[
                    schemas.FairnessMeasure(
                        **{k: v for k, v in r.items() if k not in ("attribute", "group")}
                    )
                    for r in rows
                ],
            )
        )
    alerts = [
        schemas.FairnessAlert(
            attribute=r["attribute"],
            group=r["group"],
            measure=r["measure"],
            ratio=r["ratio"],
            accounts=r["accounts"],
            words=alert_words(r),
        )
        for r in compared.filter(pl.col("alert"))
        .sort("ratio", descending=True)
        .iter_rows(named=True)
    ]
    bands = frame.group_by("band").agg(pl.len().alias("n"))
    order = stats.bucket_order(bands["band"].to_list())
    return schemas.Fairness(
        period=p,
        risk_basis="p_pay" if basis == "p_pay" else "bucket",
        ratio_threshold=ratio,
        min_accounts=min_accounts,
        accounts=frame.height,
        bands=[
            schemas.RiskBand(band=b, accounts=n)
            for b, n in sorted(bands.iter_rows(), key=lambda r: order.index(r[0]))
        ],
        groups=groups,
        alerts=alerts,
    )


def _order(key: tuple[object, ...]) -> tuple[int, str]:
    """Groups in their natural order, "unknown" last."""
    group = str(key[1])
    ages = [label for _, _, label in parity.AGE_BANDS]
    if group == parity.UNKNOWN:
        return (2, group)
    if group in ages:
        return (0, f"{ages.index(group):02d}")
    return (1, group)
