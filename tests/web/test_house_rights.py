"""The debtor's rights page (`/p/{token}/learn/your-rights`) lists the deployment's house rules
(`RECOUP_COMPLIANCE_HOUSE_FILE`) beside the packs', for the roles of whoever collects the debtor's
accounts: what the deployment promises is what the debtor is told."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from recoup.config import Settings
from recoup.delinquency import service as delinquency_service
from recoup.kit.clock import SettableClock
from recoup.ledger import schemas as ledger_schemas
from recoup.ledger import service as ledger_service
from recoup.models import Account
from recoup.models.account import Collector
from tests.compliance.helpers import NO_SUNDAYS, configure_house
from tests.factories import add_bill, create_customer, shanghai
from tests.web.test_portal import AS_OF, link

# Sundays off for everyone, and an agency's calls kept to the day's middle.
HOUSE = (
    NO_SUNDAYS
    + """\
  - id: acme.agency_midday
    kind: hours
    title: An agency contacts only between 10:00 and 18:00
    collectors: [third_party]
    window: {from: "10:00", to: "18:00"}
"""
)


def held_by(session: Session, clock: SettableClock, collector: Collector) -> Account:
    """A debtor in China with one account ten days late, collected by `collector`."""
    clock.set(shanghai(AS_OF, 10))
    customer = create_customer(session, clock, name="王芳")
    account = ledger_service.create_account(
        session,
        ledger_schemas.AccountCreate(
            external_ref=f"held-by-{collector}",
            customer_ref=customer.external_ref,
            product="bnpl",
            currency="CNY",
            opened_date=AS_OF.replace(day=1),
            collector=collector,
        ),
        clock=clock,
    )
    add_bill(session, clock, account, AS_OF - dt.timedelta(days=10), 50_000)
    delinquency_service.run_daily(session, AS_OF, clock=clock)
    session.commit()
    return account


def rules_shown(
    client: TestClient, settings: Settings, account: Account, clock: SettableClock
) -> set[str]:
    page = client.get(f"{link(settings, account, clock)}/learn/your-rights", params={"lang": "en"})
    assert page.status_code == 200, page.text
    return set(re.findall(r'<li data-rule="([^"]+)">', page.text))


class TestRightsPage:
    @pytest.mark.parametrize(
        ("collector", "house_rules"),
        [
            (Collector.creditor, {"acme.no_sundays"}),
            (Collector.agency, {"acme.no_sundays", "acme.agency_midday"}),
        ],
    )
    def test_lists_the_house_rules_that_bind_the_debtors_collector(
        self,
        session: Session,
        clock: SettableClock,
        anonymous: TestClient,
        settings: Settings,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        collector: Collector,
        house_rules: set[str],
    ) -> None:
        """Catches the rights page built from the shipped packs alone (`load_guard()` for
        `deployment_guard(...)` in `education.service.read`): neither house rule would be
        listed. The agency's rule shows only to a debtor an agency collects from."""
        configure_house(monkeypatch, tmp_path / "house.yaml", HOUSE)
        shown = rules_shown(anonymous, settings, held_by(session, clock, collector), clock)
        assert {r for r in shown if r.startswith("acme.")} == house_rules
        assert "cn.hours.legal" in shown  # the packs' rules still there

    def test_without_a_house_policy_the_page_lists_the_packs_alone(
        self, session: Session, clock: SettableClock, anonymous: TestClient, settings: Settings
    ) -> None:
        shown = rules_shown(anonymous, settings, held_by(session, clock, Collector.agency), clock)
        assert "cn.hours.legal" in shown
        assert not {r for r in shown if r.startswith("acme.")}
