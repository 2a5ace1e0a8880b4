"""The strategy desk: a policy's text checked with the first problem at its line and column, a
draft dry-run against the active policy (the same comparison as `recoup strategy diff`), and
activation with four eyes (the author or submitter never approves), every step audited; the
same through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from recoup.identity import service as identity_service
from recoup.identity.permissions import Role
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ValidationFailed
from recoup.models import AuditEvent, PolicyVersion, StrategyDecision
from recoup.strategy import service as strategy_service
from recoup.strategy.checking import MAX_POLICY_CHARS, check, locate
from recoup.strategy.policy import parse_policy
from tests.factories import shanghai
from tests.strategy.test_daily_run import AS_OF, policy_text, portfolio

PASSWORD = "correct horse battery staple"


def line_of(text: str, needle: str) -> int:
    """The 1-based line holding `needle` (once in the text)."""
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def column_of(text: str, needle: str) -> int:
    start = text.index(needle)
    return start - (text.rfind("\n", 0, start) + 1) + 1


class TestCheck:
    """Each problem lands where the editor must show it. Removals it catches: the node walk
    (`locate` answering 1, 1: the schema errors' positions), `at_key` (the unknown key's
    position would be its value's), the YAML mark (the syntax error's position), the
    expression's own position (a condition's error would be at the condition's start)."""

    def test_the_shipped_policy_has_no_problem(self) -> None:
        checked = check(policy_text())
        assert checked.problem is None
        assert checked.policy is not None

    def test_a_yaml_syntax_error_at_the_parsers_mark(self) -> None:
        text = policy_text().replace("dpd: [1, 30]", "dpd: [1, 30", 1)
        problem = check(text).problem
        assert problem is not None
        assert "not valid YAML" in problem.message
        # The parser notices on the next line, where `treatments:` cannot be a flow item.
        assert problem.line == line_of(text, "dpd: [1, 30\n") + 1
        assert problem.column == column_of(policy_text(), "treatments:\n      - id: early_push") + (
            len("treatments")
        )

    def test_a_value_the_schema_refuses_at_the_value(self) -> None:
        text = policy_text().replace(
            "id: early_push\n        channel: push", "id: early_push\n        channel: pigeon", 1
        )
        problem = check(text).problem
        assert problem is not None
        assert problem.path == "stages[1].treatments[0].channel"
        assert "'pigeon' is not one of" in problem.message
        assert problem.line == line_of(text, "channel: pigeon")
        assert problem.column == column_of(text, "pigeon")

    def test_an_unknown_key_at_the_key(self) -> None:
        text = policy_text().replace("  - name: early\n", "  - name: early\n    colour: 7\n", 1)
        problem = check(text).problem
        assert problem is not None
        assert problem.path == "stages[1].colour"
        assert problem.message.startswith("unknown key(s) colour")
        assert (problem.line, problem.column) == (line_of(text, "colour: 7"), 5)

    def test_a_range_that_is_not_one_at_its_value(self) -> None:
        text = policy_text().replace("dpd: [1, 30]", "dpd: [30, 1]", 1)
        problem = check(text).problem
        assert problem is not None
        assert problem.path == "stages[1].dpd"
        assert (problem.line, problem.column) == (
            line_of(text, "dpd: [30, 1]"),
            column_of(text, "[30, 1]"),
        )

    def test_a_bad_expression_at_the_character(self) -> None:
        text = policy_text().replace("when: days_to_due == 1", "when: days_to_due == = 1", 1)
        problem = check(text).problem
        assert problem is not None
        assert problem.path == "stages[0].treatments[2].when"
        assert "unexpected" in problem.message
        assert problem.line == line_of(text, "days_to_due == = 1")
        assert problem.column == column_of(text, "== = 1") + 3

    def test_an_unknown_fact_in_an_expression(self) -> None:
        text = policy_text().replace("when: days_to_due == 1", "when: days_to_dew == 1", 1)
        problem = check(text).problem
        assert problem is not None
        assert "days_to_dew" in problem.message
        assert problem.line == line_of(text, "days_to_dew")
        assert problem.column == column_of(text, "days_to_dew")

    def test_a_missing_key_at_the_nearest_node(self) -> None:
        text = policy_text().replace("  - name: early\n", "  - dpd_: 0\n    name_: early\n", 1)
        problem = check(text).problem
        assert problem is not None
        assert problem.line == line_of(text, "dpd_: 0")

    def test_too_long_and_nul(self) -> None:
        long = check("#" * (MAX_POLICY_CHARS + 1)).problem
        assert long is not None
        assert "longer than" in long.message
        nul = check("policy: a\x00").problem
        assert nul is not None
        assert "NUL" in nul.message

    @pytest.mark.parametrize(
        "text",
        [
            "[" * 50_000,
            "{" * 50_000,
            "- " * 50_000 + "x",
            "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 100)),
        ],
    )
    def test_deep_yaml_is_a_problem_not_a_crash(self, text: str) -> None:
        """Removal it catches: the depth scan before PyYAML builds its nodes (which recurses:
        a RecursionError, a 500 in the API and the console)."""
        problem = check(text).problem
        assert problem is not None
        assert "nested deeper than" in problem.message

    @pytest.mark.parametrize(
        "expression",
        ["(" * 900 + "dpd" + ")" * 900 + " > 1", "not " * 400 + "hardship", "-" * 1900 + "dpd > 1"],
    )
    def test_a_deep_expression_is_a_problem_not_a_crash(self, expression: str) -> None:
        """Removal it catches: the parser's nesting bound (its recursive descent would exhaust
        the stack)."""
        text = policy_text().replace("when: days_to_due == 1", f"when: {expression}", 1)
        problem = check(text).problem
        assert problem is not None
        assert "nested deeper than" in problem.message
        assert problem.line == line_of(text, f"when: {expression[:40]}")

    def test_a_long_expression_is_a_problem(self) -> None:
        text = policy_text().replace(
            "when: days_to_due == 1", "when: dpd > 1" + " and dpd > 1" * 200, 1
        )
        problem = check(text).problem
        assert problem is not None
        assert "at most 2,000 characters" in problem.message

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(
        st.text(
            alphabet=st.sampled_from(list("[]{}:-,&*!|>'\"#%@ \n\tabcdpw01()=<not")),
            max_size=300,
        )
    )
    def test_any_text_is_checked_without_raising(self, text: str) -> None:
        """Whatever is pasted into the editor is a policy or a problem with a position, never an
        exception (which would be a 500)."""
        checked = check(text)
        assert (checked.policy is None) != (checked.problem is None)
        if checked.problem is not None:
            assert checked.problem.line >= 1
            assert checked.problem.column >= 1

    def test_locate_walks_keys_and_indexes(self) -> None:
        text = "a:\n  - x: 1\n  - x: 2\n    y: [3, 4]\n"
        assert locate(text, ("a", 1, "y")) == (4, 8)
        assert locate(text, ("a", 1, "y"), at_key=True) == (4, 5)
        assert locate(text, ("a", 5)) == (2, 3)  # no such item: the list


@pytest.fixture
def staff(sessions: sessionmaker[Session], clock: SettableClock) -> dict[str, str]:
    """Two strategists (collections managers), an agent; usernames by name."""
    with sessions() as session:
        for name, role in (
            ("mei", Role.strategist),
            ("tao", Role.strategist),
            ("ana", Role.agent),
        ):
            identity_service.create_staff(
                session, username=name, display_name=name, role=role, password=PASSWORD,
                clock=clock,
            )  # fmt: skip
        session.commit()
    return {"mei": "staff:mei", "tao": "staff:tao", "ana": "staff:ana"}


def signed_in(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False, base_url="https://testserver")
    response = client.post("/v1/auth/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


def changed_text() -> str:
    """The shipped policy with large accounts no longer called in mid stage."""
    changed = policy_text().replace("segments: [large, unresponsive]", "segments: [unresponsive]")
    assert changed != policy_text()
    return changed


@pytest.fixture
def active(session: Session, clock: SettableClock) -> PolicyVersion:
    clock.set(shanghai(AS_OF, 10))
    version = strategy_service.save_policy(
        session, policy_text(), author="staff:lin", clock=clock, source="test"
    )
    return strategy_service.activate(session, version.id, actor="staff:lin", clock=clock)


class TestDryRun:
    def test_the_dry_run_is_the_diffs_comparison_and_writes_nothing(
        self, session: Session, clock: SettableClock, active: PolicyVersion
    ) -> None:
        """Removal it catches: a second engine (the dry-run's counts or accounts departing from
        what `strategy diff` reports for the same policies and day)."""
        ids = portfolio(session, clock)
        draft = strategy_service.save_draft(
            session, changed_text(), author="staff:mei", clock=clock
        )
        decisions = session.scalar(select(func.count(StrategyDecision.id)))
        _, against, run = strategy_service.dry_run_version(
            session, draft.id, as_of=AS_OF, limit=50, offset=0
        )
        assert against.id == active.id
        old, new = parse_policy(policy_text(), source="a"), parse_policy(changed_text(), source="b")
        diff = strategy_service.diff(session, AS_OF, old, new)
        assert run.summary.equals(diff)
        for change in strategy_service.COMPARED:
            rows = diff.filter(diff["change"] == change)
            assert run.counts[change] == (int(rows["accounts"].sum()) if rows.height else 0)
        assert run.counts["treatment"] == 1
        assert run.changed == 1
        assert run.accounts == len(ids) - 0  # every account of the portfolio was decided
        (row,) = run.rows
        assert row["account_id"] == ids["mid_large"]
        assert (row["treatment_old"], row["treatment_new"]) == ("mid_call", "mid_sms_offer")
        assert (row["channel_old"], row["channel_new"]) == ("call", "sms")
        assert row["account_ref"]
        assert session.scalar(select(func.count(StrategyDecision.id))) == decisions

    def test_pages(self, session: Session, clock: SettableClock, active: PolicyVersion) -> None:
        portfolio(session, clock)
        # A stage renamed: every account in it changes stage.
        text = (
            policy_text()
            .replace("name: early\n", "name: early_renamed\n", 1)
            .replace("stages: [early]", "stages: [early_renamed]", 1)
        )
        draft = strategy_service.save_draft(session, text, author="staff:mei", clock=clock)
        *_, whole = strategy_service.dry_run_version(
            session, draft.id, as_of=AS_OF, limit=50, offset=0
        )
        assert whole.changed == whole.counts["stage"] >= 2
        *_, first = strategy_service.dry_run_version(
            session, draft.id, as_of=AS_OF, limit=1, offset=0
        )
        *_, second = strategy_service.dry_run_version(
            session, draft.id, as_of=AS_OF, limit=1, offset=1
        )
        assert [r["account_id"] for r in first.rows + second.rows] == [
            r["account_id"] for r in whole.rows[:2]
        ]


def actions(session: Session, version_id: int) -> list[tuple[str, str]]:
    return [
        (e.action, e.actor)
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_type == "policy_version")
            .where(AuditEvent.subject_id == str(version_id))
            .order_by(AuditEvent.seq)
        )
    ]


class TestFourEyes:
    """Removal it catches: the service's same-person check (`_under_review`'s FourEyes): the
    author's own approval would activate the version."""

    def test_the_author_cannot_approve_another_can(
        self, session: Session, clock: SettableClock, active: PolicyVersion
    ) -> None:
        draft = strategy_service.save_draft(
            session, changed_text(), author="staff:mei", clock=clock
        )
        assert draft.status == "draft"
        with pytest.raises(strategy_service.WrongStatus):
            strategy_service.approve(session, draft.id, actor="staff:tao", clock=clock)
        strategy_service.submit(session, draft.id, actor="staff:mei", clock=clock)
        with pytest.raises(strategy_service.FourEyes):
            strategy_service.approve(session, draft.id, actor="staff:mei", clock=clock)
        assert strategy_service.active_policy(session)[0].id == active.id
        strategy_service.approve(session, draft.id, actor="staff:tao", clock=clock)
        now, _ = strategy_service.active_policy(session)
        assert now.id == draft.id
        assert (now.status, now.reviewed_by, now.activated_by) == (
            "active",
            "staff:tao",
            "staff:tao",
        )
        session.refresh(active)
        assert (active.status, active.active) == ("superseded", False)
        assert actions(session, draft.id) == [
            ("policy.saved", "staff:mei"),
            ("policy.submitted", "staff:mei"),
            ("policy.approved", "staff:tao"),
            ("policy.activated", "staff:tao"),
        ]

    def test_the_submitter_cannot_approve_a_text_someone_else_wrote(
        self, session: Session, clock: SettableClock, active: PolicyVersion
    ) -> None:
        draft = strategy_service.save_draft(
            session, changed_text(), author="staff:mei", clock=clock
        )
        strategy_service.submit(session, draft.id, actor="staff:tao", clock=clock)
        for who in ("staff:mei", "staff:tao"):
            with pytest.raises(strategy_service.FourEyes):
                strategy_service.approve(session, draft.id, actor=who, clock=clock)
        strategy_service.approve(session, draft.id, actor="staff:lin", clock=clock)
        assert strategy_service.active_policy(session)[0].id == draft.id

    def test_a_rejection_has_a_reason_and_the_author_may_submit_again(
        self, session: Session, clock: SettableClock, active: PolicyVersion
    ) -> None:
        draft = strategy_service.save_draft(
            session, changed_text(), author="staff:mei", clock=clock
        )
        strategy_service.submit(session, draft.id, actor="staff:mei", clock=clock)
        with pytest.raises(strategy_service.FourEyes):
            strategy_service.reject(
                session, draft.id, actor="staff:mei", reason="changed my mind", clock=clock
            )
        with pytest.raises(ValidationFailed):
            strategy_service.reject(session, draft.id, actor="staff:tao", reason=" ", clock=clock)
        strategy_service.reject(
            session, draft.id, actor="staff:tao", reason="large accounts need a call", clock=clock
        )
        assert (draft.status, draft.rejection_reason) == ("rejected", "large accounts need a call")
        assert strategy_service.active_policy(session)[0].id == active.id
        strategy_service.submit(session, draft.id, actor="staff:mei", clock=clock)
        assert (draft.status, draft.rejection_reason) == ("submitted", None)
        with pytest.raises(strategy_service.WrongStatus):
            strategy_service.submit(session, active.id, actor="staff:mei", clock=clock)
        assert [a for a, _ in actions(session, draft.id)] == [
            "policy.saved",
            "policy.submitted",
            "policy.rejected",
            "policy.submitted",
        ]


class TestApi:
    def test_save_dry_run_submit_approve_through_the_api(
        self,
        app: FastAPI,
        session: Session,
        clock: SettableClock,
        staff: dict[str, str],
        active: PolicyVersion,
    ) -> None:
        ids = portfolio(session, clock)
        session.commit()
        clock.set(shanghai(AS_OF, 10))
        mei, tao, ana = (signed_in(app, n) for n in ("mei", "tao", "ana"))

        bad = policy_text().replace("when: days_to_due == 1", "when: days_to_due == = 1", 1)
        refused = mei.post("/v1/policies", json={"text": bad})
        assert refused.status_code == 422, refused.text
        (detail,) = refused.json()["details"]
        assert (detail["line"], detail["column"]) == (
            line_of(bad, "days_to_due == = 1"),
            column_of(bad, "== = 1") + 3,
        )
        assert detail["path"] == "stages[0].treatments[2].when"

        saved = mei.post("/v1/policies", json={"text": changed_text()})
        assert saved.status_code == 201, saved.text
        version = saved.json()
        assert (version["status"], version["author"]) == ("draft", "staff:mei")
        assert "text" not in version
        assert mei.get(f"/v1/policies/{version['id']}").json()["text"] == changed_text()

        run = mei.get(f"/v1/policies/{version['id']}/dry-run").json()
        assert run["as_of"] == AS_OF.isoformat()
        assert run["active_version_id"] == active.id
        assert run["counts"]["treatment"] == 1
        (item,) = run["items"]
        assert item["account_id"] == ids["mid_large"]
        assert item["account_ref"].startswith("*")
        assert (item["before"]["channel"], item["after"]["channel"]) == ("call", "sms")

        assert ana.post(f"/v1/policies/{version['id']}/submit").status_code == 403
        assert mei.post(f"/v1/policies/{version['id']}/submit").json()["status"] == "submitted"
        own = mei.post(f"/v1/policies/{version['id']}/approve")
        assert own.status_code == 403
        assert own.json()["error"] == "four_eyes"
        approved = tao.post(f"/v1/policies/{version['id']}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "active"
        listed = mei.get("/v1/policies").json()
        assert [v["status"] for v in listed["items"]][:2] == ["active", "superseded"]
        assert mei.get("/v1/policies/999999/dry-run").status_code == 404
        misspelt = mei.get("/v1/policies?ofset=1")
        assert misspelt.status_code == 422
        assert "ofset" in misspelt.json()["message"]
        assert tao.post(f"/v1/policies/{active.id}/reject", json={"reason": "x"}).status_code == 409
        assert (
            mei.post("/v1/policies", json={"text": "x" * (MAX_POLICY_CHARS + 1)}).status_code == 422
        )


class TestStatusMigration:
    """3c8d1f6a9e27 gives the versions stored before it their status: the active one active, one
    active once superseded, the others drafts. Removal it catches: the migration's UPDATE (every
    version would be a draft, the active one too)."""

    BEFORE = "8d5e3f0b2a71"

    def test_versions_stored_before_get_their_status(self, process_database: str) -> None:
        from sqlalchemy import text

        from recoup.kit.db import make_engine
        from tests.test_migrations import migrate_to

        engine = make_engine(process_database)
        try:
            migrate_to(engine, self.BEFORE)
            with engine.begin() as conn:
                for n, (active, activated) in enumerate(
                    ((True, True), (False, True), (False, False))
                ):
                    conn.execute(
                        text(
                            "INSERT INTO policy_versions (name, version, sha256, text, author, "
                            "active, activated_at, created_at) VALUES ('p', :v, :sha, 'x', "
                            "'cli', :active, :activated, :at)"
                        ),
                        {
                            "v": str(n),
                            "sha": f"{n:064d}",
                            "active": active,
                            "activated": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
                            if activated
                            else None,
                            "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                        },
                    )
            migrate_to(engine, "head")
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT version, status FROM policy_versions ORDER BY version")
                ).all()
            assert [tuple(r) for r in rows] == [
                ("0", "active"),
                ("1", "superseded"),
                ("2", "draft"),
            ]
        finally:
            engine.dispose()


def test_a_date_no_calendar_has_is_a_problem_not_a_crash() -> None:
    """Found by the console's form fuzzing: PyYAML reads `0000-01-01` as a date and raises a bare
    ValueError, which was a 500 on the editor's page."""
    checked = strategy_service.check_policy_text("policy: x\nversion: 0000-01-01\n")
    assert checked.problem is not None
    assert "out of range" in checked.problem.message
