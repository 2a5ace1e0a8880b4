"""Every id in a request is checked against the caller's scope (finding 3), and privilege is never
delegated beyond what the delegator holds (finding 15)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.identity import service as identity_service
from recoup.identity.permissions import MATRIX, Role
from recoup.kit.clock import SettableClock
from recoup.models import PayLinkRevocation
from tests.contact.test_replies import add_contact
from tests.factories import create_account, create_customer
from tests.identity.test_auth import PASSWORD, signed_in


def revocations(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(PayLinkRevocation)).scalar_one())


def test_finding_03_revoking_by_another_customers_contact_is_refused(
    client: TestClient, session: Session, clock: SettableClock
) -> None:
    """A revocation naming a contact that is not the customer's (another customer's, or none at
    all) is a 404 and records nothing; the customer's own is a 201. Catches removing the owner
    check from `arrangements.service.revoke` (the foreign and the missing contact then answer
    201, revoking nothing)."""
    mine = create_account(session, clock, customer=create_customer(session, clock, name="王芳"))
    theirs = create_account(session, clock, customer=create_customer(session, clock, name="赵磊"))
    session.commit()
    their_contact = add_contact(session, clock, theirs, channel="sms", treatment="sms_reminder")
    my_contact = add_contact(session, clock, mine, channel="sms", treatment="sms_reminder")
    url = f"/v1/customers/{mine.customer_id}/pay-links/revoke"

    foreign = client.post(url, json={"contact_id": their_contact.id, "reason": "wrong number"})
    missing = client.post(url, json={"contact_id": 9_000_000_000, "reason": "wrong number"})
    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json()["error"] == missing.json()["error"] == "not_found"
    assert revocations(session) == 0

    own = client.post(url, json={"contact_id": my_contact.id, "reason": "wrong number"})
    assert own.status_code == 201, own.text
    assert revocations(session) == 1


def administrator(
    app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock
) -> TestClient:
    with sessions() as session:
        identity_service.create_staff(
            session,
            username="probe-admin",
            display_name="admin",
            role=Role.administrator,
            password=PASSWORD,
            clock=clock,
        )
        session.commit()
    return signed_in(app, "probe-admin")


def test_finding_15_an_administrator_cannot_give_what_its_role_lacks(
    app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock
) -> None:
    """An administrator creates no staff whose role holds a permission it lacks (a supervisor
    reveals personal data; a compliance officer too) and mints no API key with a scope it lacks;
    within its own permissions it still can. Catches removing `check_delegation` from
    `identity.service.create_staff` or `create_api_key` (both then answer 201)."""
    admin = administrator(app, sessions, clock)
    held = MATRIX[Role.administrator]
    for role in Role:
        response = admin.post(
            "/v1/staff",
            json={
                "username": f"new-{role}",
                "display_name": "n",
                "role": str(role),
                "password": PASSWORD,
            },
        )
        if MATRIX[role] <= held:
            assert response.status_code == 201, (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["error"] == "delegation_refused"
    assert Role.supervisor not in [r for r in Role if MATRIX[r] <= held]

    beyond = admin.post("/v1/api-keys", json={"name": "k", "scopes": ["links:revoke"]})
    assert beyond.status_code == 403
    assert beyond.json()["error"] == "delegation_refused"
    mixed = admin.post(
        "/v1/api-keys", json={"name": "k", "scopes": ["customers:read", "cases:write"]}
    )
    assert mixed.status_code == 403
    within = admin.post("/v1/api-keys", json={"name": "k", "scopes": ["customers:read"]})
    assert within.status_code == 201, within.text
