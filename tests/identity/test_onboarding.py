"""Four eyes on staff and API keys: proposed by one administrator, approved by another; the new
person chooses their password with a one-time code."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.identity import service as identity_service
from recoup.identity.permissions import MATRIX, Permission, Role
from recoup.identity.service import Principal
from recoup.kit.clock import SettableClock
from recoup.kit.errors import Conflict, NotAuthenticated, ValidationFailed
from recoup.models import ApiKey, AuditEvent, StaffUser

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a password of my own choosing"


def admin(session: Session, clock: SettableClock, name: str) -> Principal:
    user = identity_service.create_staff(
        session,
        username=name,
        display_name=name,
        role=Role.administrator,
        password=PASSWORD,
        clock=clock,
    )
    return identity_service.staff_principal(user)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def admins(session: Session, clock: SettableClock) -> tuple[Principal, Principal]:
    return admin(session, clock, "admin.a"), admin(session, clock, "admin.b")


class TestFourEyes:
    def test_the_proposer_cannot_approve_their_own(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        """Catches `approve` without the `_is_proposer` check."""
        a, _ = admins
        proposal = identity_service.propose_staff(
            session, username="chen.gang", display_name="陈刚", role=Role.agent,
            proposer=a, clock=clock,
        )  # fmt: skip
        with pytest.raises(identity_service.OwnProposal):
            identity_service.approve(session, proposal.id, approver=a, clock=clock)
        assert session.scalar(select(StaffUser).where(StaffUser.username == "chen.gang")) is None

    @pytest.mark.parametrize("role", list(Role))
    def test_the_approval_creates_exactly_the_proposed_role(
        self,
        session: Session,
        clock: SettableClock,
        admins: tuple[Principal, Principal],
        role: Role,
    ) -> None:
        """Any role, even one beyond the administrators' own (a supervisor reveals personal data),
        made only with a second administrator's approval, and exactly as proposed."""
        a, b = admins
        proposal = identity_service.propose_staff(
            session, username=f"new.{role}", display_name="新人", role=role,
            proposer=a, clock=clock,
        )  # fmt: skip
        done = identity_service.approve(session, proposal.id, approver=b, clock=clock)
        assert done.user is not None
        assert done.user.role == str(role)
        assert identity_service.staff_principal(done.user).permissions == MATRIX[role]
        assert done.proposal.status == "approved"
        assert done.proposal.result_id == done.user.id
        assert done.code is not None

    def test_an_api_key_is_made_with_exactly_the_proposed_scopes(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        a, b = admins
        scopes = [Permission.consents_write, Permission.payments_write]
        proposal = identity_service.propose_api_key(
            session, name="wallet", scopes=scopes, proposer=a, clock=clock
        )
        done = identity_service.approve(session, proposal.id, approver=b, clock=clock)
        assert done.key is not None
        principal = identity_service.authenticate_api_key(session, done.key, clock=clock)
        assert principal.permissions == frozenset(scopes)

    def test_a_key_proposal_beyond_what_a_key_may_hold_is_refused(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        with pytest.raises(ValidationFailed, match="scopes"):
            identity_service.propose_api_key(
                session, name="x", scopes=[Permission.staff_manage],
                proposer=admins[0], clock=clock,
            )  # fmt: skip

    def test_a_refused_proposal_creates_nothing_and_cannot_be_approved_later(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        a, b = admins
        proposal = identity_service.propose_staff(
            session, username="wang.li", display_name="王丽", role=Role.supervisor,
            proposer=a, clock=clock,
        )  # fmt: skip
        users = count(session, StaffUser)
        identity_service.refuse(
            session, proposal.id, approver=b, reason="not on the list", clock=clock
        )
        with pytest.raises(Conflict, match="refused"):
            identity_service.approve(session, proposal.id, approver=b, clock=clock)
        assert count(session, StaffUser) == users

    def test_an_expired_proposal_creates_nothing(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        """Catches `_pending` reading the stored status without the expiry."""
        a, b = admins
        proposal = identity_service.propose_api_key(
            session, name="late", scopes=[Permission.accounts_read], proposer=a, clock=clock
        )
        keys = count(session, ApiKey)
        clock.advance(identity_service.PROPOSAL_LIFETIME + dt.timedelta(seconds=1))
        assert identity_service.status_of(proposal, clock.now()) == "expired"
        with pytest.raises(Conflict, match="expired"):
            identity_service.approve(session, proposal.id, approver=b, clock=clock)
        assert count(session, ApiKey) == keys

    def test_every_step_is_audited(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        a, b = admins
        proposal = identity_service.propose_staff(
            session, username="zhao.min", display_name="赵敏", role=Role.auditor,
            proposer=a, clock=clock,
        )  # fmt: skip
        done = identity_service.approve(session, proposal.id, approver=b, clock=clock)
        assert done.code is not None
        identity_service.redeem_password_code(
            session, username="zhao.min", code=done.code, password=NEW_PASSWORD, clock=clock
        )
        actions = list(
            session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.subject_id.in_(["zhao.min", str(proposal.id)]),
                    AuditEvent.action.in_(
                        [
                            "staff.proposal_proposed",
                            "staff.proposal_approved",
                            "staff.created",
                            "staff.password_code_issued",
                            "staff.password_set",
                        ]
                    ),
                )
            )
        )
        assert sorted(actions) == sorted(
            [
                "staff.proposal_proposed",
                "staff.created",
                "staff.password_code_issued",
                "staff.proposal_approved",
                "staff.password_set",
            ]
        )


class TestSetPasswordCode:
    def approved(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> str:
        a, b = admins
        proposal = identity_service.propose_staff(
            session, username="chen.gang", display_name="陈刚", role=Role.agent,
            proposer=a, clock=clock,
        )  # fmt: skip
        done = identity_service.approve(session, proposal.id, approver=b, clock=clock)
        assert done.code is not None
        return done.code

    def test_nobody_can_sign_in_before_the_code_is_used(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        code = self.approved(session, clock, admins)
        refused = identity_service.sign_in(
            session, username="chen.gang", password=code, clock=clock
        )
        assert isinstance(refused, NotAuthenticated)

    def test_the_code_sets_the_password_once(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        """Catches `redeem_password_code` not setting `used_at` (the code working twice)."""
        code = self.approved(session, clock, admins)
        identity_service.redeem_password_code(
            session, username="chen.gang", code=code, password=NEW_PASSWORD, clock=clock
        )
        signed = identity_service.sign_in(
            session, username="chen.gang", password=NEW_PASSWORD, clock=clock
        )
        assert not isinstance(signed, NotAuthenticated)
        with pytest.raises(identity_service.CodeRefused):
            identity_service.redeem_password_code(
                session, username="chen.gang", code=code, password="another long password",
                clock=clock,
            )  # fmt: skip

    def test_the_code_expires(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        """Catches the expiry check removed from `redeem_password_code`."""
        code = self.approved(session, clock, admins)
        clock.advance(identity_service.CODE_LIFETIME + dt.timedelta(seconds=1))
        with pytest.raises(identity_service.CodeRefused):
            identity_service.redeem_password_code(
                session, username="chen.gang", code=code, password=NEW_PASSWORD, clock=clock
            )

    def test_the_code_is_only_for_its_own_user(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        """Catches the code's staff id not compared with the username's (an approver taking an
        administrator's account with a code issued for a new agent)."""
        code = self.approved(session, clock, admins)
        with pytest.raises(identity_service.CodeRefused):
            identity_service.redeem_password_code(
                session, username="admin.a", code=code, password=NEW_PASSWORD, clock=clock
            )

    def test_a_short_password_names_the_field_and_keeps_the_code(
        self, session: Session, clock: SettableClock, admins: tuple[Principal, Principal]
    ) -> None:
        code = self.approved(session, clock, admins)
        with pytest.raises(ValidationFailed, match="password"):
            identity_service.redeem_password_code(
                session, username="chen.gang", code=code, password="short", clock=clock
            )


class TestApi:
    def sign_in(self, app_client: TestClient, username: str) -> None:
        response = app_client.post(
            "/v1/auth/sessions", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text

    def test_propose_approve_set_password_through_the_api(
        self, app: FastAPI, sessions: sessionmaker[Session], clock: SettableClock
    ) -> None:
        with sessions() as session:
            admin(session, clock, "admin.a")
            admin(session, clock, "admin.b")
            session.commit()
        with (
            TestClient(app, base_url="https://testserver") as a,
            TestClient(app, base_url="https://testserver") as b,
        ):
            self.sign_in(a, "admin.a")
            self.sign_in(b, "admin.b")
            made = a.post(
                "/v1/staff/proposals",
                json={"username": "li.si", "display_name": "李四", "role": "supervisor"},
            )
            assert made.status_code == 201, made.text
            pid = made.json()["id"]
            assert a.post(f"/v1/proposals/{pid}/approve").status_code == 403
            approved = b.post(f"/v1/proposals/{pid}/approve")
            assert approved.status_code == 200, approved.text
            code = approved.json()["set_password_code"]
            assert "set_password_code" not in made.json()
            listed = a.get("/v1/proposals")
            assert [p["status"] for p in listed.json() if p["id"] == pid] == ["approved"]
            assert code not in listed.text
            done = a.post(
                "/v1/auth/password",
                json={"username": "li.si", "code": code, "password": NEW_PASSWORD},
            )
            assert done.status_code == 204, done.text
            again = a.post(
                "/v1/auth/password",
                json={"username": "li.si", "code": code, "password": NEW_PASSWORD},
            )
            assert again.status_code == 400
            assert again.json()["error"] == "code_refused"
            staff = {u["username"]: u for u in a.get("/v1/staff").json()}
            assert staff["li.si"]["role"] == "supervisor"
            disabled = a.post(f"/v1/staff/{staff['li.si']['id']}/disable")
            assert disabled.status_code == 200
            assert disabled.json()["disabled_at"] is not None
            own = a.post(f"/v1/staff/{staff['admin.a']['id']}/disable")
            assert own.status_code == 409
