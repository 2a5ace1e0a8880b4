"""The compliance area's fairness page: the groups and alerts of a period in both languages (an
alert in words, not only a colour), and a 422 with the page for a period that ends before it
starts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.analytics.test_fairness import portfolio
from tests.console.conftest import ConsoleClient


def test_the_console_page_reads_in_both_languages(
    console: ConsoleClient, session: Session, clock: SettableClock
) -> None:
    portfolio(session, clock, young_factor=2, per_group=50)  # the default bound: 50 a group
    session.commit()
    console.sign_in(Role.compliance_officer)
    url = "/console/compliance/fairness?from=2026-06-01&to=2026-06-30"
    console.get("/console/language?lang=en&next=/console")
    en = console.get(url)
    assert en.status_code == 200, en.text
    for words in (
        "Fairness of treatment",
        "By age band",
        "unknown (not on file)",
        "No alert",
        "Alert:</strong> Customers aged 18-24 had 2.0 times the contact attempts per day",
        "Pursued harder than others at the same risk</strong>: Attempts a day",
    ):
        assert words in en.text
    console.get("/console/language?lang=zh-CN&next=/console")
    zh = console.get(url)
    assert zh.status_code == 200
    for words in (
        "公平对待",
        "按年龄段",
        "未知（资料中没有）",
        "无警示",
        "警示：</strong> 在风险相同",
    ):
        assert words in zh.text
    bad = console.get("/console/compliance/fairness?from=2026-07-01&to=2026-06-01")
    assert bad.status_code == 422
