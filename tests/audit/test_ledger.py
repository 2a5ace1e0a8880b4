from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from recoup.audit import ledger
from recoup.audit import service as audit_service
from recoup.kit.clock import SettableClock
from tests.conftest import AUDIT_SIGNER
from tests.factories import create_customer


def fill(session: Session, clock: SettableClock, n: int) -> None:
    for i in range(n):
        clock.advance(dt.timedelta(seconds=1))
        audit_service.record(
            session,
            actor="staff:lin",
            action="policy.activated",
            subject_type="policy",
            subject_id=i,
            clock=clock,
            before={"version": i},
            after={"version": i + 1},
            details={"note": f"change {i}"},
        )


def unlock(session: Session) -> None:
    """Tests play the attacker with table-owner rights: switch the append-only triggers off for this
    transaction (rolled back with it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        session.execute(
            text("ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only")
        )
    else:
        for name in (
            "audit_events_no_update",
            "audit_events_no_delete",
            "audit_checkpoints_no_update",
        ):
            session.execute(text(f"DROP TRIGGER {name}"))


def seq_base(session: Session) -> int:
    return int(session.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_events")).scalar_one())


class TestChain:
    def test_entries_chain_and_verify(self, session: Session, clock: SettableClock) -> None:
        fill(session, clock, 5)
        result = audit_service.verify(session)
        assert result.ok, result.problems
        assert result.entries >= 5

    def test_the_table_refuses_updates_and_deletes(
        self, session: Session, clock: SettableClock
    ) -> None:
        fill(session, clock, 1)
        session.commit()  # releases the test's savepoint only; the outer transaction still rolls back
        for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
                session.execute(text(statement))

    def test_a_changed_entry_is_named(self, session: Session, clock: SettableClock) -> None:
        fill(session, clock, 6)
        target = seq_base(session) - 3
        unlock(session)
        session.execute(
            text("UPDATE audit_events SET actor = 'staff:mallory' WHERE seq = :s"), {"s": target}
        )
        result = audit_service.verify(session)
        assert not result.ok
        assert result.first_broken is not None
        assert result.first_broken.seq == target
        assert "contents changed" in result.first_broken.what

    def test_a_deleted_entry_is_named(self, session: Session, clock: SettableClock) -> None:
        fill(session, clock, 6)
        target = seq_base(session) - 2
        unlock(session)
        session.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": target})
        result = audit_service.verify(session)
        assert result.first_broken is not None
        assert result.first_broken.seq == target
        assert "missing" in result.first_broken.what

    def test_reordered_entries_are_named(self, session: Session, clock: SettableClock) -> None:
        fill(session, clock, 6)
        a = seq_base(session) - 4
        unlock(session)
        # swap two entries' positions, keeping each one's own hash intact
        session.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = :a"), {"a": a})
        session.execute(
            text("UPDATE audit_events SET seq = :a WHERE seq = :b"), {"a": a, "b": a + 1}
        )
        session.execute(text("UPDATE audit_events SET seq = :b WHERE seq = -1"), {"b": a + 1})
        result = audit_service.verify(session)
        assert result.first_broken is not None
        assert result.first_broken.seq == a

    def test_the_deleted_tail_is_noticed(self, session: Session, clock: SettableClock) -> None:
        fill(session, clock, 4)
        last = seq_base(session)
        unlock(session)
        session.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": last})
        result = audit_service.verify(session)
        assert not result.ok
        assert any("head says" in p.what for p in result.problems)


class TestCheckpoints:
    def test_checkpoints_sign_the_merkle_root_and_verify(
        self, session: Session, clock: SettableClock
    ) -> None:
        fill(session, clock, 3)
        first = audit_service.checkpoint(session, clock=clock)
        fill(session, clock, 4)
        second = audit_service.checkpoint(session, clock=clock)
        assert first is not None
        assert second is not None
        assert second.prev_root == first.root
        assert second.first_seq == first.last_seq + 1
        message = ledger.statement(second.first_seq, second.last_seq, second.root, second.prev_root)
        assert ledger.signature_valid(AUDIT_SIGNER.public, message, second.signature)
        assert audit_service.checkpoint(session, clock=clock) is None
        assert audit_service.verify(session).ok

    def test_a_forged_checkpoint_is_named(self, session: Session, clock: SettableClock) -> None:
        fill(session, clock, 3)
        row = audit_service.checkpoint(session, clock=clock)
        assert row is not None
        unlock(session)
        session.execute(
            text("UPDATE audit_checkpoints SET root = :r WHERE id = :i"),
            {"r": "ab" * 32, "i": row.id},
        )
        session.expire_all()
        problems = [p.what for p in audit_service.verify(session).problems]
        assert any("root does not match" in w for w in problems)
        assert any("signature invalid" in w for w in problems)

    def test_a_checkpoint_from_an_unknown_key_is_refused(
        self, session: Session, clock: SettableClock
    ) -> None:
        fill(session, clock, 2)
        audit_service.install_signer(audit_service.Signer(Ed25519PrivateKey.generate()))
        try:
            audit_service.checkpoint(session, clock=clock)
        finally:
            audit_service.install_signer(AUDIT_SIGNER)
        problems = [p.what for p in audit_service.verify(session).problems]
        assert any("unknown key" in w for w in problems)

    def test_merkle_root_matches_rfc6962_shape(self) -> None:
        import hashlib

        leaves = ["00" * 32, "11" * 32, "22" * 32]
        h = lambda b: hashlib.sha256(b).digest()  # noqa: E731
        leaf = [h(b"\x00" + bytes.fromhex(x)) for x in leaves]
        expected = h(b"\x01" + h(b"\x01" + leaf[0] + leaf[1]) + leaf[2]).hex()
        assert ledger.merkle_root(leaves) == expected


class TestDataAccess:
    def test_reveal_needs_a_reason_and_is_logged_for_the_customer(
        self, client: TestClient, session: Session, clock: SettableClock
    ) -> None:
        customer = create_customer(session, clock, name="王强")
        session.commit()
        opened = client.get(f"/v1/customers/{customer.id}")
        assert opened.status_code == 200
        assert "王强" not in opened.text
        # integrations may not reveal
        refused = client.post(
            f"/v1/customers/{customer.id}/reveal", json={"fields": ["name"], "reason": "checking"}
        )
        assert refused.status_code == 403
        log = client.get(f"/v1/customers/{customer.id}/data-access").json()
        assert [(e["kind"], e["actor"].split(":")[0]) for e in log] == [("view", "api_key")]

    def test_supervisor_reveal_lands_on_both_logs(
        self, app: object, session: Session, clock: SettableClock
    ) -> None:
        from recoup.identity import service as identity_service
        from recoup.identity.permissions import Role

        customer = create_customer(session, clock, name="王强")
        identity_service.create_staff(
            session,
            username="sup.li",
            display_name="Li",
            role=Role.supervisor,
            password="a long enough password",
            clock=clock,
        )
        session.commit()
        client = TestClient(app, base_url="https://testserver")  # type: ignore[arg-type]
        assert (
            client.post(
                "/v1/auth/sessions",
                json={"username": "sup.li", "password": "a long enough password"},
            ).status_code
            == 200
        )
        missing_reason = client.post(
            f"/v1/customers/{customer.id}/reveal", json={"fields": ["name"]}
        )
        assert missing_reason.status_code == 422
        revealed = client.post(
            f"/v1/customers/{customer.id}/reveal",
            json={"fields": ["name", "phones"], "reason": "debtor asked for a call back"},
        )
        assert revealed.status_code == 200
        assert revealed.json()["name"] == "王强"
        assert revealed.json()["national_id"] is None
        log = client.get(f"/v1/customers/{customer.id}/data-access").json()
        assert log[-1]["kind"] == "reveal"
        assert log[-1]["reason"] == "debtor asked for a call back"
        assert log[-1]["actor"] == "staff:sup.li"
        events = audit_service.since(session, clock.now() - dt.timedelta(days=1))
        assert any(
            e.action == "customer.revealed" and e.subject_id == str(customer.id) for e in events
        )
        assert audit_service.verify(session).ok
