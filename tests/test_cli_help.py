"""`recoup --help` for a newcomer: commands in panels in the order they are needed (set up, run,
look, operate, comply), each with a one-line summary."""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from recoup.cli.group import PANELS
from recoup.cli.main import app

pytestmark = pytest.mark.pure
runner = CliRunner()


def test_the_panels_come_in_a_newcomer_s_order_and_hold_every_command() -> None:
    """Catches a command registered without a panel (it would fall into a trailing "Commands"
    panel) and `Group.list_commands` losing its order (panels would follow registration)."""
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    titles = re.findall(r"╭─ (.+?) ─", result.stdout)
    assert titles == ["Options", *PANELS]
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    for name, command in group.commands.items():
        assert getattr(command, "rich_help_panel", None) in PANELS, name


def test_each_command_has_a_one_line_summary() -> None:
    """A summary is one sentence on one line at 120 columns, not a docstring cut mid-sentence."""
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "120"})
    group = typer.main.get_command(app)
    lines = result.stdout.splitlines()
    for name in group.commands:
        [row] = [
            i for i, line in enumerate(lines) if re.match(rf"│ {re.escape(name)}\s{{2,}}\S", line)
        ]
        following = lines[row + 1]
        # The next line starts another command or closes the panel: the summary did not wrap.
        assert re.match(r"│ \S|╰", following), (name, following)
        assert lines[row].rstrip(" │").endswith((".", ")", "`")), lines[row]
