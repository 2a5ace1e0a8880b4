"""Reason words: what a feature's value says about an account, in en, zh-CN and zh-TW, for the console,
`contact explain` and the debtor's "my data" page. Pure.

`words(code, value, language)` renders one reason; a code the catalogue does not know (a column
of a CSV model) reads "COLUMN = value". Amount features are carried as log1p of minor units (see
`risk.features`) and are shown back as amounts in major units."""

from __future__ import annotations

import math

from babel.numbers import format_decimal, format_percent

from recoup.kit.money import format_money

LANGUAGES = ("en", "zh-CN", "zh-TW")
_LOCALE = {"en": "en", "zh-CN": "zh_Hans_CN", "zh-TW": "zh_Hant_TW"}

# code -> (en, zh-CN, zh-TW); `{v}` is the value as rendered by its kind (count, days, share, amount).
WORDS: dict[str, tuple[str, str, str]] = {
    "on_time_ratio_180d": (
        "{v} of bills due in 180 days paid on time",
        "180天内到期账单按时还款{v}",
        "180天內到期帳單按時還款{v}",
    ),
    "max_days_late_180d": (
        "paid up to {v} days late in 180 days",
        "180天内最长逾期{v}天",
        "180天內最長逾期{v}天",
    ),
    "mean_days_late_180d": (
        "{v} days late on average in 180 days",
        "180天内平均逾期{v}天",
        "180天內平均逾期{v}天",
    ),
    "partial_bills_180d": (
        "{v} bills part-paid by their due date in 180 days",
        "180天内{v}期账单到期时仅部分还款",
        "180天內{v}期帳單到期時僅部分還款",
    ),
    "promises_made_60d": (
        "{v} promises to pay in 60 days",
        "60天内{v}次还款承诺",
        "60天內{v}次還款承諾",
    ),
    "promises_broken_60d": (
        "{v} broken promises in 60 days",
        "60天内{v}次未兑现还款承诺",
        "60天內{v}次未兌現還款承諾",
    ),
    "promises_kept_60d": (
        "{v} kept promises in 60 days",
        "60天内{v}次兑现还款承诺",
        "60天內{v}次兌現還款承諾",
    ),
    "days_since_last_payment": (
        "{v} days since the last payment",
        "距上次还款{v}天",
        "距上次還款{v}天",
    ),
    "payments_30d": (
        "{v} payments in 30 days",
        "30天内还款{v}次",
        "30天內還款{v}次",
    ),
    "overdue_log": (
        "{v} overdue",
        "逾期金额{v}",
        "逾期金額{v}",
    ),
    "outstanding_log": (
        "{v} outstanding",
        "未还总额{v}",
        "未還總額{v}",
    ),
    "overdue_ratio": (
        "{v} of the balance is overdue",
        "逾期金额占未还总额{v}",
        "逾期金額佔未還總額{v}",
    ),
    "bills_overdue": (
        "{v} bills overdue",
        "{v}期账单逾期",
        "{v}期帳單逾期",
    ),
    "dpd": (
        "{v} days past due",
        "逾期{v}天",
        "逾期{v}天",
    ),
    "bucket": (
        "in bucket {v}",
        "处于{v}阶段",
        "處於{v}階段",
    ),
    "product": (
        "product {v}",
        "产品{v}",
        "產品{v}",
    ),
    "tenure_days": (
        "customer for {v} days",
        "开户{v}天",
        "開戶{v}天",
    ),
    "contacts_delivered_30d": (
        "{v} messages delivered in 30 days",
        "30天内送达{v}条消息",
        "30天內送達{v}則訊息",
    ),
    "link_opens_30d": (
        "{v} payment links opened in 30 days",
        "30天内打开还款链接{v}次",
        "30天內開啟還款連結{v}次",
    ),
    "conversations_30d": (
        "{v} calls answered in 30 days",
        "30天内接通电话{v}次",
        "30天內接通電話{v}次",
    ),
    "replies_30d": (
        "{v} replies in 30 days",
        "30天内回复{v}次",
        "30天內回覆{v}次",
    ),
    "days_since_last_contact": (
        "{v} days since the last contact",
        "距上次联系{v}天",
        "距上次聯絡{v}天",
    ),
    "plan_active": (
        "a payment plan is active: {v}",
        "分期还款计划进行中：{v}",
        "分期還款計畫進行中：{v}",
    ),
    "hardship_open": (
        "hardship declared: {v}",
        "已申报经济困难：{v}",
        "已申報經濟困難：{v}",
    ),
    "dispute_open": (
        "a dispute is open: {v}",
        "存在未解决的争议：{v}",
        "存在未解決的爭議：{v}",
    ),
}
SHARES = {"on_time_ratio_180d", "overdue_ratio"}
AMOUNTS = {"overdue_log", "outstanding_log"}  # log1p(minor units)
FLAGS = {"plan_active", "hardship_open", "dispute_open"}
_YES_NO = {"en": ("yes", "no"), "zh-CN": ("是", "否"), "zh-TW": ("是", "否")}
_UNKNOWN = {"en": "unknown", "zh-CN": "未知", "zh-TW": "未知"}


def words(
    code: str, value: float | str | None, language: str, *, currency: str | None = None
) -> str:
    """One reason in `language` (en, zh-CN or zh-TW; anything else reads en); with the account's
    `currency`, an amount reads as money (¥339.71), as the rest of the debtor's page does."""
    lang = language if language in LANGUAGES else "en"
    shown = _value(code, value, lang, currency)
    if code not in WORDS:
        return f"{code} = {shown}"
    return WORDS[code][LANGUAGES.index(lang)].format(v=shown)


def _value(code: str, value: float | str | None, lang: str, currency: str | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _UNKNOWN[lang]
    if isinstance(value, str):
        return value
    locale = _LOCALE[lang]
    if code in FLAGS:
        return _YES_NO[lang][0 if value else 1]
    if code in SHARES:
        return str(format_percent(value, format="#,##0%", locale=locale))
    if code in AMOUNTS and currency is not None:
        return format_money(round(math.expm1(value)), currency, locale)
    if code in AMOUNTS:
        return str(format_decimal(math.expm1(value) / 100, format="#,##0.00", locale=locale))
    if float(value).is_integer():
        return str(format_decimal(int(value), format="#,##0", locale=locale))
    return str(format_decimal(value, format="#,##0.#", locale=locale))
