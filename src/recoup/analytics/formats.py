"""The KPIs as people read them: one rule per figure and locale, for every place that shows them
(`recoup report`'s tables, report.html, the console's dashboard, the simulator's summary).

- a rate (`RATES`, a cure rate): a percentage with one decimal (`12.3%`);
- complaints and opt-outs per 1,000 attempts: two decimals (`0.74`);
- cost per unit collected: four decimals;
- money: Babel's currency format of the reader's locale (`¥1,200.00` in Chinese, `CN¥1,200.00`
  in English: the English locale names which yuan);
- a figure with no value: `—`.

Numbers are rounded once, here, half to even as Babel does, and grouped by the locale.
"""

from __future__ import annotations

import math

from babel.numbers import format_decimal, format_percent

from recoup.kit.money import format_money

NONE = "—"
# The KPIs shown as percentages (besides `cure.<bucket>`).
RATES = frozenset(
    {"recovery_rate", "recovery_count_rate", "reach_rate", "right_party_rate", "promises_kept"}
)
DIGITS = {"cost_per_unit_collected": 4}  # every other figure that is not a rate: 2
# The languages of the console, the report and the CLI, and their Babel locales.
LOCALES = {"en": "en", "zh-CN": "zh_CN", "zh-TW": "zh_TW"}


def locale_of(lang: str) -> str:
    """A language of the pages (`zh-CN`) or a Babel locale (`zh_CN`) as a Babel locale."""
    return LOCALES.get(lang, lang.replace("-", "_"))


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: float | None, lang: str, digits: int = 1) -> str:
    if value is None or _missing(value):
        return NONE
    return str(format_percent(value, f"#,##0.{'0' * digits}%", locale=locale_of(lang)))


def dec(value: float | None, lang: str, digits: int = 2) -> str:
    if value is None or _missing(value):
        return NONE
    return str(format_decimal(value, f"#,##0.{'0' * digits}", locale=locale_of(lang)))


def kpi(name: str, value: float | None, lang: str) -> str:
    """A KPI by its name (`analytics.service.TARGET_KPIS`, `cure.<bucket>`)."""
    if name in RATES or name.startswith("cure."):
        return pct(value, lang)
    return dec(value, lang, DIGITS.get(name, 2))


def money(amount_minor: int, currency: str, lang: str) -> str:
    return format_money(amount_minor, currency, locale_of(lang))
