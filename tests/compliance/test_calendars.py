"""Calendars as data: a day no calendar knows is refused, not guessed; a calendar file extends or
overrides the packages' tables; coverage is listed; the daily run is warned before one runs out."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recoup.cli.main import app
from recoup.compliance import calendars, check, load_guard
from recoup.compliance.batch import decide_frame, facts_frame
from recoup.compliance.explain import explain
from recoup.compliance.facts import Facts
from tests.compliance.helpers import codes, rules, scenario, utc

pytestmark = pytest.mark.pure
runner = CliRunner()

WORKDAYS_HOUSE = {
    "rules": [
        {
            "id": "acme.workdays",
            "kind": "hours",
            "title": "Working days only",
            "window": {"from": "09:00", "to": "18:00"},
            "working_days": True,
        }
    ]
}
GUARD = load_guard(WORKDAYS_HOUSE)
# 2027-02-06, a Saturday on the eve of the Spring Festival: a rest day or a 调休 working day, as
# the State Council's 2027 schedule will say; chinese-calendar 1.11.0 ends with 2026.
SPRING_EVE_2027 = "2027-02-06T10:00:00+08:00"


@pytest.fixture
def calendar_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "calendars.yaml"
    monkeypatch.setenv(calendars.ENV, str(path))
    yield path
    monkeypatch.delenv(calendars.ENV)
    calendars.reload()


def cn_2027(day_status: str, path: Path) -> None:
    """A deployment's file with China's 2027 and 2027-02-06 a rest day or a worked Saturday."""
    path.write_text(
        "calendars:\n"
        "  - country: CN\n"
        "    year: 2027\n"
        "    source: test schedule\n"
        f"    holidays: [2027-02-0{'6' if day_status == 'rest' else '7'}, 2027-02-08]\n"
        f"    workdays: [{'2027-02-06' if day_status == 'work' else ''}]\n",
        encoding="utf-8",
    )
    calendars.reload()


class TestAnUnknownDayIsRefused:
    def test_2027_02_06_is_refused_with_the_calendar_reason_not_guessed(self) -> None:
        """Catches the fallback the package gave before (Monday to Friday when chinese-calendar has
        no year: 2027-02-06 would be a guessed REST_DAY, and a weekday an allowed working day)."""
        d = check(GUARD, scenario("CN", SPRING_EVE_2027))
        assert codes(d) == {"CALENDAR_UNKNOWN"}
        assert rules(d) == {"acme.workdays"}
        assert d.next_allowed_at is None
        assert d.reasons[0].detail == {"calendar": "CN", "day": "2027-02-06"}
        weekday = check(GUARD, scenario("CN", "2027-02-09T10:00:00+08:00"))  # a Tuesday
        assert codes(weekday) == {"CALENDAR_UNKNOWN"}

    def test_the_batch_refuses_it_too(self) -> None:
        facts = Facts(
            at=utc(SPRING_EVE_2027),
            channel="call",
            jurisdiction="CN",
            zones=("Asia/Shanghai",),
        )
        out = decide_frame(GUARD, facts_frame([facts] * 20))  # past the one-by-one shortcut
        assert set(out["allowed"]) == {False}
        assert out["reasons"].to_list()[0] == ["acme.workdays:CALENDAR_UNKNOWN"]
        assert out["next_allowed_at"].to_list() == [None] * 20

    def test_a_known_day_before_the_end_waits_for_no_day_past_it(self) -> None:
        """2026-12-31 18:30 is after hours on the last known day: the next working day would be in
        2027, which no calendar knows, so no moment is promised."""
        d = check(GUARD, scenario("CN", "2026-12-31T18:30:00+08:00"))
        assert codes(d) == {"OUTSIDE_HOURS"}
        assert d.next_allowed_at is None
        before = check(GUARD, scenario("CN", "2026-12-30T18:30:00+08:00"))
        assert before.next_allowed_at == utc("2026-12-31T09:00:00+08:00")

    def test_the_law_s_daily_hours_need_no_calendar(self) -> None:
        """China's hours apply every day (regulation-rules A6): without a working-days rule the same
        day is decided as any other."""
        assert check(load_guard(), scenario("CN", SPRING_EVE_2027)).allowed

    def test_an_estimated_lunar_holiday_is_not_known(self) -> None:
        """Indonesia forbids holidays; the library only estimates 2027's Eid al-Fitr (10 March)."""
        guard = load_guard()
        eid = check(guard, scenario("ID", "2027-03-10T10:00:00+07:00"))
        assert codes(eid) == {"CALENDAR_UNKNOWN"}
        assert rules(eid) == {"id.hours"}
        assert check(guard, scenario("ID", "2027-03-16T10:00:00+07:00")).allowed

    def test_a_country_no_calendar_knows_is_refused_where_a_rule_needs_holidays(self) -> None:
        house = {
            "rules": [
                {
                    "id": "acme.no_holidays",
                    "kind": "hours",
                    "title": "No public holidays",
                    "window": {"from": "08:00", "to": "20:00"},
                    "holidays": "forbid",
                    "calendar": "XA",
                }
            ]
        }
        d = check(load_guard(house), scenario("GB", "2026-06-16T10:00:00+01:00"))
        assert codes(d) == {"CALENDAR_UNKNOWN"}

    def test_the_reason_reads_in_chinese_and_english(self) -> None:
        d = check(GUARD, scenario("CN", SPRING_EVE_2027))
        assert "official calendar for that day is not known" in explain(d, GUARD, "en")
        assert "尚未公布或未载入" in explain(d, GUARD, "zh")


class TestCalendarFiles:
    def test_a_file_decides_the_day_it_lists(self, calendar_file: Path) -> None:
        cn_2027("rest", calendar_file)
        rest = check(GUARD, scenario("CN", SPRING_EVE_2027))
        assert codes(rest) == {"REST_DAY"}
        assert rest.next_allowed_at == utc("2027-02-09T09:00:00+08:00")
        cn_2027("work", calendar_file)
        assert check(GUARD, scenario("CN", SPRING_EVE_2027)).allowed  # a worked Saturday

    def test_a_file_overrides_the_package_for_its_year(self, calendar_file: Path) -> None:
        calendar_file.write_text(
            "calendars:\n  - {country: CN, year: 2026, source: test, holidays: [], workdays: []}\n",
            encoding="utf-8",
        )
        calendars.reload()
        # 2026-02-17 is in the Spring Festival break of the package; the file has no holiday.
        assert check(GUARD, scenario("CN", "2026-02-17T10:00:00+08:00")).allowed

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("calendars: [{country: CN, year: 2027, holidays: []}]", "source is required"),
            (
                "calendars: [{country: CN, year: 2027, source: x, holidays: [2026-01-01]}]",
                "2026-01-01 is not in 2027",
            ),
            (
                "calendars: [{country: CN, year: 2027, source: x, holidays: [31 Feb]}]",
                "is not a date",
            ),
            ("calendars: [{country: China, year: 2027, source: x}]", "two-letter"),
            ("calendars: [{country: CN, year: 99999, source: x}]", "year must be"),
            ("holidays: []", "one key, calendars"),
        ],
    )
    def test_a_bad_file_is_refused_saying_where(
        self, calendar_file: Path, text: str, message: str
    ) -> None:
        calendar_file.write_text(text, encoding="utf-8")
        calendars.reload()
        with pytest.raises(calendars.CalendarError, match=message):
            calendars.files()

    def test_the_shipped_file_validates(self) -> None:
        calendars.reload()
        assert all(entry.source for entry in calendars.files().values())


class TestCoverage:
    def test_the_command_lists_each_jurisdiction_s_years(self, calendar_file: Path) -> None:
        cn_2027("rest", calendar_file)
        result = runner.invoke(
            app, ["compliance", "calendars", "--since", "2026-12-05"], env={"COLUMNS": "220"}
        )
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stdout.splitlines() if line.startswith("│ CN")]
        assert len(lines) == 2
        assert "2004-2027" in lines[0]
        assert "chinese-calendar" in lines[0]
        assert str(calendar_file.name) in result.stdout
        id_holidays = next(line for line in result.stdout.splitlines() if "id.hours" in line)
        assert "2027-03-10" in id_holidays

    def test_uncovered_years_are_named(self) -> None:
        calendars.reload()
        result = runner.invoke(
            app, ["compliance", "calendars", "--since", "2026-12-05"], env={"COLUMNS": "220"}
        )
        cn_line = next(line for line in result.stdout.splitlines() if line.startswith("│ CN"))
        assert "all from 2027-01-01" in cn_line


class TestRunningOut:
    def test_a_calendar_in_use_warns_sixty_days_before_it_ends(self) -> None:
        calendars.reload()
        assert calendars.expiring(GUARD, dt.date(2026, 11, 1)) == []
        alerts = calendars.expiring(GUARD, dt.date(2026, 11, 2))
        assert [(a.country, a.what, a.first_unknown, a.days_left) for a in alerts] == [
            ("CN", calendars.WORKDAYS, dt.date(2027, 1, 1), 60)
        ]
        assert "acme.workdays" in alerts[0].message()

    def test_a_calendar_no_rule_needs_does_not_warn(self) -> None:
        calendars.reload()
        assert [a.country for a in calendars.expiring(load_guard(), dt.date(2026, 12, 5))] == []
        assert [a.country for a in calendars.expiring(load_guard(), dt.date(2027, 1, 9))] == ["ID"]


def test_docs_carry_the_command_s_output() -> None:
    """docs/compliance.md shows `COLUMNS=150 recoup compliance calendars --since 2026-12-05`."""
    calendars.reload()
    result = runner.invoke(
        app, ["compliance", "calendars", "--since", "2026-12-05"], env={"COLUMNS": "150"}
    )
    doc = (Path(__file__).resolve().parents[2] / "docs" / "compliance.md").read_text("utf-8")
    assert result.stdout.rstrip() in doc, "docs/compliance.md is stale: paste the command's output"


def test_a_bad_calendar_file_stops_a_command_in_one_line(calendar_file: Path) -> None:
    """Indonesia's hours rule reads the calendar: the file's error is the command's one line.
    Catches removing the `CalendarError` branch of the command group (a traceback)."""
    calendar_file.write_text("calendars: [{country: ID, year: 2026}]", encoding="utf-8")
    calendars.reload()
    data = json.dumps(scenario("ID", "2026-06-16T10:00:00+07:00"))
    result = runner.invoke(app, ["compliance", "check", "-"], input=data)
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"error: {calendar_file}: calendars[0]: source is required (the official text it copies)"
    ]
