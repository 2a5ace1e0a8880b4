"""The delinquency API's pauses, as staff call it: a pause has a kind, the generic one by default."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session

from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from tests.arrangements.test_api import staff_client
from tests.factories import create_account


class TestPauseKinds:
    def test_a_pause_has_the_kind_asked_for_and_other_when_none_is(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        account = create_account(session, clock)
        supervisor = staff_client(app, session, clock, "sup-wang", Role.supervisor)
        url = f"/v1/accounts/{account.id}/pauses"
        body = {"reason": "the customer disputes the fee", "created_by": "supervisor:wang"}
        as_before = supervisor.post(
            url, json={**body, "start_date": "2026-03-01", "end_date": "2026-03-05"}
        )
        assert as_before.status_code == 201, as_before.text
        assert as_before.json()["kind"] == "other"  # the reason's words mean nothing to the rules
        assert (as_before.json()["arrangement_id"], as_before.json()["case_id"]) == (None, None)
        disputed = supervisor.post(
            url, json={**body, "kind": "dispute", "start_date": "2026-03-10", "end_date": None}
        )
        assert disputed.status_code == 201, disputed.text
        assert disputed.json()["kind"] == "dispute"

    def test_a_plan_kind_or_an_unknown_one_is_refused(
        self, app: FastAPI, session: Session, clock: SettableClock
    ) -> None:
        account = create_account(session, clock)
        supervisor = staff_client(app, session, clock, "sup-li", Role.supervisor)
        body = {"reason": "x", "created_by": "supervisor:li", "start_date": "2026-03-01"}
        for kind in ("plan", "holiday"):
            refused = supervisor.post(
                f"/v1/accounts/{account.id}/pauses", json={**body, "kind": kind}
            )
            assert refused.status_code == 422, refused.text
