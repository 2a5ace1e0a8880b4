"""Contact preferences through the API: channels allowed, quiet hours the guard honours when the
daily run plans, and the language."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recoup.kit.clock import SettableClock
from recoup.models import ContactPlan, OptOut
from recoup.strategy import service as strategy_service
from tests.arrangements.test_flows import DAY0, late_account


class TestPreferences:
    def test_channels_quiet_hours_and_language_round_trip(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_account(session, clock)
        session.commit()
        url = f"/v1/customers/{account.customer_id}/preferences"
        assert client.get(url).json() == {
            "channels": ["call", "email", "push", "sms"],
            "quiet_from": None,
            "quiet_to": None,
            "preferred_from": None,
            "preferred_to": None,
            "language": "zh-CN",
        }
        saved = client.put(
            url,
            json={
                "channels": ["sms"],
                "quiet_from": "22:00",
                "quiet_to": "08:00",
                "language": "en",
            },
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["channels"] == ["sms"]
        opted = session.execute(select(OptOut.channel).where(OptOut.withdrawn_at.is_(None)))
        assert sorted(opted.scalars()) == ["call", "email", "push"]
        back = client.put(url, json={"channels": ["sms", "push"]})
        assert back.json()["channels"] == ["push", "sms"]  # opted back in
        assert back.json()["quiet_from"] is None
        half = client.put(url, json={"channels": ["sms"], "quiet_from": "22:00"})
        assert half.status_code == 422
        assert client.put(url, json={"channels": ["fax"]}).status_code == 422
        assert (
            client.put(
                url, json={"channels": [], "quiet_from": "25:00", "quiet_to": "01:00"}
            ).status_code
            == 422
        )

    def test_the_daily_run_plans_no_contact_inside_quiet_hours(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_account(session, clock)
        session.commit()
        client.put(
            f"/v1/customers/{account.customer_id}/preferences",
            json={
                "channels": ["sms", "email", "push", "call"],
                "quiet_from": "08:00",
                "quiet_to": "20:00",
            },
        )
        strategy_service.run(session, DAY0, clock=clock)
        contact = session.execute(
            select(ContactPlan).where(ContactPlan.account_id == account.id)
        ).scalar_one()
        assert contact.status == "deferred"
        assert any("inconvenient" in str(r).lower() for r in contact.reasons), contact.reasons
        local = contact.scheduled_at.astimezone(ZoneInfo("Asia/Shanghai"))
        assert local.hour >= 20

    def test_a_preferred_window_moves_the_contact_into_it(
        self, session: Session, clock: SettableClock, client: TestClient
    ) -> None:
        account = late_account(session, clock)
        session.commit()
        saved = client.put(
            f"/v1/customers/{account.customer_id}/preferences",
            json={
                "channels": ["sms", "email", "push", "call"],
                "preferred_from": "19:30",
                "preferred_to": "21:00",
            },
        )
        assert saved.json()["preferred_from"] == "19:30"
        strategy_service.run(session, DAY0, clock=clock)
        contact = session.execute(
            select(ContactPlan).where(ContactPlan.account_id == account.id)
        ).scalar_one()
        assert contact.status == "deferred"
        local = contact.scheduled_at.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (local.hour, local.minute) == (19, 30)
