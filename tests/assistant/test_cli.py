"""`recoup assistant classify / train / evaluate` end to end (typer's CliRunner): the output
contract, input order, bad input, and a model that training gives again byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli.main import app

pytestmark = pytest.mark.pure
runner = CliRunner()
LINES = [
    {"id": "m-3", "text": "下周五还500", "at": "2026-06-10T09:12:00+08:00"},
    {"id": "m-1", "text": "STOP", "at": "2026-06-10T09:13:00+08:00", "language": "en"},
    {"id": "m-2", "text": "I want to kill myself", "at": "2026-06-10T09:14:00+00:00"},
]


def _jsonl(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_classify_writes_one_line_per_message_in_input_order() -> None:
    result = runner.invoke(app, ["assistant", "classify", "-"], input=_jsonl(LINES))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["m-3", "m-1", "m-2"]
    assert out[0] == {
        "id": "m-3",
        "intent": "promise_to_pay",
        "confidence": out[0]["confidence"],
        "entities": {"amount_minor": 50_000, "date": "2026-06-19"},
    }
    assert [o["intent"] for o in out[1:]] == ["stop", "vulnerable"]
    assert all(list(o) == ["id", "intent", "confidence", "entities"] for o in out)


def test_classify_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(_jsonl(LINES) + "\n", encoding="utf-8")  # a blank line is skipped
    result = runner.invoke(app, ["assistant", "classify", str(path)])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 3


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("not json", "line 2: not JSON"),
        ('{"text": "hi", "at": "2026-06-10T09:12:00+08:00"}', "line 2, field id"),
        ('{"id": "x", "at": "2026-06-10T09:12:00+08:00"}', "line 2, field text"),
        ('{"id": "x", "text": "hi", "at": "2026-06-10T09:12:00"}', "line 2, field at"),
        ('{"id": "x", "text": "hi", "at": "yesterday"}', "line 2, field at"),
        ('{"id": "x", "text": 5, "at": "2026-06-10T09:12:00+08:00"}', "line 2, field text"),
        (
            '{"id": "x", "text": "hi", "at": "2026-06-10T09:12:00+08:00", "language": "fr"}',
            "line 2, field language",
        ),
        (
            json.dumps({"id": "x", "text": "还" * 2001, "at": "2026-06-10T09:12:00+08:00"}),
            "line 2, field text",
        ),
        ("[1, 2]", "line 2: not a JSON object"),
    ],
)
def test_a_bad_line_classifies_nothing_and_exits_2_naming_line_and_field(
    line: str, named: str
) -> None:
    text = _jsonl(LINES[:1]) + line + "\n" + _jsonl(LINES[1:])
    result = runner.invoke(app, ["assistant", "classify", "-"], input=text)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert named in " ".join(result.output.split())


def test_skip_invalid_classifies_the_good_lines_and_reports_the_bad() -> None:
    text = _jsonl(LINES[:1]) + "oops\n" + _jsonl(LINES[1:])
    result = runner.invoke(app, ["assistant", "classify", "-", "--skip-invalid"], input=text)
    assert result.exit_code == 0
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["m-3", "m-1", "m-2"]
    assert "line 2" in result.stderr


def test_a_missing_file_and_a_bad_currency_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["assistant", "classify", str(tmp_path / "no")]).exit_code == 2
    result = runner.invoke(app, ["assistant", "classify", "-", "--currency", "XXQ"], input="")
    assert result.exit_code == 2


def test_training_again_gives_the_shipped_model_byte_for_byte() -> None:
    """Reproducibility: the same train split gives the same JSON (deterministic lbfgs on one
    thread, rounded weights); also fails when the shipped model is stale."""
    result = runner.invoke(app, ["assistant", "train", "--check"])
    assert result.exit_code == 0, result.output


def test_train_writes_a_model_classify_can_use(tmp_path: Path) -> None:
    data = tmp_path / "set.jsonl"
    rows = []
    for i, (text, intent) in enumerate(
        [
            ("怎么还款", "pay_now"),
            ("还款链接发我", "pay_now"),
            ("明天还500", "promise_to_pay"),
            ("下周还1000", "promise_to_pay"),
            ("打错了", "wrong_person"),
            ("不是我的号码", "wrong_person"),
        ]
    ):
        rows.append(
            {
                "id": f"r{i}",
                "text": text,
                "at": "2026-06-10T09:12:00+08:00",
                "language": "zh-Hans",
                "intent": intent,
                "amount_minor": None,
                "date": None,
                "split": "train",
            }
        )
    data.write_text(_jsonl(rows), encoding="utf-8")
    out = tmp_path / "model.json"
    result = runner.invoke(app, ["assistant", "train", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "recoup.assistant.intents/1"


def test_evaluate_prints_the_figures() -> None:
    result = runner.invoke(app, ["assistant", "evaluate"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for figure in ("macro F1", "recall of stop", "of vulnerable", "promises", "zh-Hant"):
        assert figure in result.stdout
