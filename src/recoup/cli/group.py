"""The `recoup` command group: the order `recoup --help` lists commands in, and the one handler
that answers a database problem (or a calendar file that does not load) in one line for every
command."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from recoup.cli.errors import DATABASE_ERRORS, database_problem
from recoup.compliance.calendars import CalendarError

# Panels in the order a newcomer needs them, and each panel's commands in their order.
SET_UP, RUN, LOOK, LEARN, OPERATE, COMPLY = "Set up", "Run", "Look", "Learn", "Operate", "Comply"
PANELS = (SET_UP, RUN, LOOK, LEARN, OPERATE, COMPLY)
ORDER = (
    "init",
    "demo",
    "generate",
    "import",
    "strategy",
    "templates",
    "run",
    "scheduler",
    "worker",
    "serve",
    "simulate",
    "accounts",
    "report",
    "contact",
    "models",
    "assistant",
    "staff",
    "apikeys",
    "keys",
    "compliance",
    "audit",
    "privacy",
)


class Group(TyperGroup):
    """Lists commands by panel, then in `ORDER` (a command added later without a place there keeps
    its panel and comes last in it); runs a command and answers a database problem in one line."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)

        def place(name: str) -> tuple[int, int, int]:
            panel = getattr(self.commands[name], "rich_help_panel", None)
            return (
                PANELS.index(panel) if panel in PANELS else len(PANELS),
                ORDER.index(name) if name in ORDER else len(ORDER),
                names.index(name),
            )

        return sorted(names, key=place)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DATABASE_ERRORS as exc:
            message = database_problem(exc)
            if message is None:
                raise
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(1) from None
        except CalendarError as exc:  # the deployment's calendar file, read when first needed
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
