"""`recoup templates ...`: read the message templates and preview them as a debtor would."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from recoup.cli.common import console, fail, runtime
from recoup.contact import service as contact_service
from recoup.contact.templates import MessageTemplate, render, sample

templates_app = typer.Typer(help="Message templates.", no_args_is_help=True)


@templates_app.command("list")
def list_templates() -> None:
    """Every template version with its status."""
    rt = runtime()
    with rt.transaction() as session:
        versions = contact_service.all_versions(session)
        rows = [
            (v.name, v.channel, v.language, v.tone, v.version, v.status, v.author) for v in versions
        ]
    table = Table(title="message templates")
    for column in ("name", "channel", "language", "tone", "version", "status", "author"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(c) for c in row))
    console.print(table)


@templates_app.command("preview")
def preview(
    name: Annotated[str, typer.Argument(help="the template's name, e.g. early_reminder")],
    channel: Annotated[str, typer.Option(help="sms, email, push, in_app, letter")] = "sms",
    language: Annotated[str, typer.Option(help="zh-CN, zh-TW or en")] = "zh-CN",
    tone: Annotated[str, typer.Option(help="gentle, neutral or firm")] = "gentle",
) -> None:
    """The approved version rendered with sample data, and its SMS length."""
    rt = runtime()
    with rt.transaction() as session:
        version = contact_service.approved(session, name, channel, language, tone)
        if version is None:
            raise fail(f"no approved template {name} for {channel}, {language}, {tone}")
        template = MessageTemplate(name, channel, language, tone, version.body, version.subject)
    rendered = render(template, sample(language, channel))
    if rendered.subject:
        console.print(f"[bold]{rendered.subject}[/]")
    console.print(rendered.body, markup=False, highlight=False)
    if rendered.sms:
        console.print(
            f"[dim]{rendered.sms.encoding}, {rendered.sms.units} characters, "
            f"{rendered.sms.segments} segment(s)[/]"
        )
