"""The audit ledger's tail: what a signed checkpoint protects, what it does not yet, and when the
tail is signed (after N entries, after M minutes, at the end of every daily run).

The attacker here has the table owner's rights (the append-only triggers off) but not the signing
key: it rewrites an entry and recomputes its hash, every later hash and link, and the head, so the
hash chain alone is consistent again."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from recoup.audit import ledger
from recoup.audit import service as audit_service
from recoup.daily import flows as daily_flows
from recoup.kit.clock import SettableClock
from tests.arrangements.test_flows import DAY0, ONE_DAY, late_account, on
from tests.audit.test_ledger import fill, seq_base, unlock


def rewrite_and_rechain(session: Session, seq: int) -> None:
    """Change entry `seq`'s actor, then recompute its hash and every later entry's hash and link,
    and the head: what someone who can write the table but holds no signing key can do."""
    unlock(session)
    rows = session.execute(
        text(
            "SELECT seq, at, actor, action, subject_type, subject_id, before_hash, after_hash, "
            "details, prev_hash FROM audit_events WHERE seq >= :s ORDER BY seq"
        ),
        {"s": seq},
    ).all()
    prev = rows[0].prev_hash
    session.execute(text("UPDATE audit_events SET hash = 'x' || seq WHERE seq >= :s"), {"s": seq})
    for r in rows:
        at = r.at if isinstance(r.at, dt.datetime) else dt.datetime.fromisoformat(r.at)
        details = r.details if isinstance(r.details, dict) else __import__("json").loads(r.details)
        actor = "staff:mallory" if r.seq == seq else r.actor
        new = ledger.entry_hash(
            seq=r.seq,
            at=at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at,
            actor=actor,
            action=r.action,
            subject_type=r.subject_type,
            subject_id=r.subject_id,
            before_hash=r.before_hash,
            after_hash=r.after_hash,
            details=details,
            prev_hash=prev,
        )
        session.execute(
            text("UPDATE audit_events SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
            {"a": actor, "p": prev, "h": new, "s": r.seq},
        )
        prev = new
    session.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
    session.expire_all()


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        audit_service, "_policy", audit_service.CheckpointPolicy(entries=1000, minutes=60)
    )


class TestRewrites:
    def test_a_rewrite_under_a_checkpoint_is_named_at_the_entry_changed(
        self, session: Session, clock: SettableClock
    ) -> None:
        """Issue 18 finding 10: catches the removal of the comparison with the checkpoint's signed
        leaves in `verify` (the rewrite was then reported at the checkpoint's first entry, entry 1
        of a fresh ledger, or not at all once the chain is recomputed and the root not compared)."""
        fill(session, clock, 8)
        audit_service.checkpoint(session, clock=clock)
        target = seq_base(session) - 4
        assert audit_service.verify(session).ok
        rewrite_and_rechain(session, target)
        result = audit_service.verify(session)
        assert not result.ok
        assert result.first_broken is not None
        assert result.first_broken.seq == target
        assert "rewritten" in result.first_broken.what
        assert result.unanchored == 0

    def test_a_rewrite_after_the_last_checkpoint_passes_and_is_counted(
        self, session: Session, clock: SettableClock, policy: None
    ) -> None:
        """The open tail, stated: a rewritten and re-chained entry after the last checkpoint
        verifies (nothing signed covers it yet), and `verify` says how many entries are in that
        window. Catches a `verify` that stops counting them (`unanchored`)."""
        fill(session, clock, 4)
        audit_service.checkpoint(session, clock=clock)
        fill(session, clock, 3)
        rewrite_and_rechain(session, seq_base(session) - 1)
        result = audit_service.verify(session)
        assert result.ok, result.problems
        assert result.unanchored == 3
        assert result.last_checkpoint_at is not None


class TestWhenTheTailIsSigned:
    def test_after_n_entries(
        self, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fill(session, clock, 1)
        audit_service.checkpoint(session, clock=clock)
        monkeypatch.setattr(audit_service, "_policy", audit_service.CheckpointPolicy(entries=3))
        fill(session, clock, 2)
        assert audit_service.verify(session).unanchored == 2
        fill(session, clock, 1)
        assert audit_service.verify(session).unanchored == 0

    def test_after_m_minutes_at_the_next_write(
        self, session: Session, clock: SettableClock, policy: None
    ) -> None:
        """Catches the removal of the age test in `_due` (the tail then waited for 1,000
        entries, however old)."""
        fill(session, clock, 1)
        audit_service.checkpoint(session, clock=clock)
        fill(session, clock, 1)
        clock.advance(dt.timedelta(minutes=59))
        fill(session, clock, 1)
        assert audit_service.verify(session).unanchored == 2
        clock.advance(dt.timedelta(minutes=2))
        fill(session, clock, 1)
        assert audit_service.verify(session).unanchored == 0

    def test_after_m_minutes_by_the_worker_without_a_write(
        self, session: Session, clock: SettableClock, policy: None
    ) -> None:
        fill(session, clock, 1)
        audit_service.checkpoint(session, clock=clock)
        fill(session, clock, 2)
        assert audit_service.checkpoint_due(session, clock=clock) is None
        clock.advance(dt.timedelta(minutes=61))
        signed = audit_service.checkpoint_due(session, clock=clock)
        assert signed is not None
        assert signed.last_seq == seq_base(session)
        assert audit_service.verify(session).unanchored == 0

    def test_every_daily_run_ends_with_a_signed_checkpoint(
        self, session: Session, clock: SettableClock, policy: None
    ) -> None:
        """Catches the removal of the checkpoint at the end of `daily.flows.run_day`."""
        late_account(session, clock)
        on(clock, DAY0 + ONE_DAY)
        audit_service.checkpoint(session, clock=clock)
        fill(session, clock, 1)
        assert audit_service.verify(session).unanchored == 1
        ran = daily_flows.run_day(
            session, DAY0 + ONE_DAY, clock=clock, zone="Asia/Shanghai", actor="t"
        )
        assert ran.ran
        result = audit_service.verify(session)
        assert result.ok, result.problems
        assert result.unanchored == 0
