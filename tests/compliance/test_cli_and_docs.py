"""`recoup compliance ...` from outside, and the rules table in docs/compliance.md kept in step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli.main import app
from recoup.compliance import load_guard
from recoup.compliance.explain import rules_markdown
from tests.compliance.helpers import scenario

pytestmark = pytest.mark.pure
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "compliance-examples"


class TestCheckCommand:
    def test_prints_the_decision_as_json_and_exits_3_when_blocked(self) -> None:
        result = runner.invoke(app, ["compliance", "check", str(EXAMPLES / "us-call-dispute.json")])
        assert result.exit_code == 3, result.output
        decision = json.loads(result.stdout)
        assert decision["decision"] == "block"
        assert [r["code"] for r in decision["reasons"]] == ["DISPUTE_PENDING"]
        assert decision["reasons"][0]["citation"].startswith("12 CFR 1006.38")
        assert decision["next_allowed_at"] is None

    def test_reads_standard_input_and_exits_0_when_allowed(self) -> None:
        data = scenario("CN", "2026-06-16T10:00:00+08:00")
        result = runner.invoke(app, ["compliance", "check", "-"], input=json.dumps(data))
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["decision"] == "allow"

    def test_explains_in_chinese(self) -> None:
        path = EXAMPLES / "cn-fourth-call-at-night.json"
        result = runner.invoke(app, ["compliance", "check", str(path), "--explain", "--lang", "zh"])
        assert result.exit_code == 3
        assert "禁止" in result.stdout
        assert "已计 3 次，上限 3" in result.stdout
        assert "最早可联系时间: 2026-06-17 08:00 Asia/Shanghai" in result.stdout

    def test_explains_in_english(self) -> None:
        path = EXAMPLES / "cn-fourth-call-at-night.json"
        result = runner.invoke(app, ["compliance", "check", str(path), "--explain"])
        assert "BLOCKED" in result.stdout
        assert "cn.effective_calls" in result.stdout

    def test_a_bad_scenario_exits_2_naming_the_field(self) -> None:
        data = scenario("CN", "2026-06-16T10:00:00+08:00")
        data["debt"]["days_past_due"] = -3
        result = runner.invoke(app, ["compliance", "check", "-"], input=json.dumps(data))
        assert result.exit_code == 2
        assert "debt.days_past_due must be a whole number" in result.output
        result = runner.invoke(app, ["compliance", "check", "-"], input="{not json")
        assert result.exit_code == 2
        assert "not JSON (line 1, column 2" in result.output

    def test_a_house_policy_file_tightens_the_rules(self, tmp_path: Path) -> None:
        house = tmp_path / "house.yaml"
        house.write_text(
            "rules:\n"
            "  - id: acme.quiet_lunch\n"
            "    kind: inconvenient\n"
            "    title: placeholder\n"
            "  - id: acme.mornings\n"
            "    kind: hours\n"
            "    title: Mornings only\n"
            "    window: {from: '09:00', to: '12:00'}\n",
            encoding="utf-8",
        )
        data = scenario("CN", "2026-06-16T15:00:00+08:00")
        result = runner.invoke(
            app, ["compliance", "check", "-", "--house", str(house)], input=json.dumps(data)
        )
        assert result.exit_code == 3, result.output
        assert [r["rule"] for r in json.loads(result.stdout)["reasons"]] == ["acme.mornings"]
        house.write_text("disable: [cn.hours.legal]\n", encoding="utf-8")
        result = runner.invoke(
            app, ["compliance", "check", "-", "--house", str(house)], input=json.dumps(data)
        )
        assert result.exit_code == 1
        assert "is law" in result.output


class TestRulesTable:
    def test_lists_the_rules_for_a_jurisdiction(self) -> None:
        result = runner.invoke(app, ["compliance", "rules", "--jurisdiction", "US-MA"])
        assert result.exit_code == 0
        assert "us_ma.calls_texts_home" in result.stdout
        assert "cn.hours.legal" not in result.stdout

    def test_docs_carry_the_current_rules_table(self) -> None:
        doc = (ROOT / "docs" / "compliance.md").read_text(encoding="utf-8")
        begin, end = "<!-- rules:begin -->", "<!-- rules:end -->"
        table = doc[doc.index(begin) + len(begin) : doc.index(end)]
        assert table.strip() == rules_markdown(load_guard()).strip(), (
            "docs/compliance.md is stale: regenerate with `recoup compliance rules --markdown`"
        )
