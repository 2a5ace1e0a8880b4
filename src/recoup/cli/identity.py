"""`recoup staff ...` and `recoup apikeys ...`: bootstrap people and integrations from a shell."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from recoup.cli.common import console, fail, runtime
from recoup.identity import service as identity_service
from recoup.identity.permissions import API_KEY_SCOPES, Permission, Role
from recoup.kit.errors import RecoupError

staff_app = typer.Typer(help="Staff users.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for integrations.", no_args_is_help=True)


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    role: Annotated[Role, typer.Option(help="What the person may do")],
    display_name: Annotated[str | None, typer.Option(help="Name shown in the console")] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="At least 12 characters"
        ),
    ] = "",
) -> None:
    """Add a staff member (the first administrator is made this way)."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            identity_service.create_staff(
                session,
                username=username,
                display_name=display_name or username,
                role=role,
                password=password,
                clock=rt.clock,
            )
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(f"added [bold]{username}[/] as {role}")


@staff_app.command("list")
def staff_list() -> None:
    """Every staff member with role and whether disabled."""
    rt = runtime()
    with rt.transaction() as session:
        table = Table(title="Staff")
        for column in ("id", "username", "name", "role", "disabled"):
            table.add_column(column)
        for user in identity_service.list_staff(session):
            table.add_row(
                str(user.id),
                user.username,
                user.display_name,
                user.role,
                str(user.disabled_at or ""),
            )
    console.print(table)


@staff_app.command("code")
def staff_code(
    username: Annotated[str, typer.Argument(help="Who forgot their password")],
) -> None:
    """Print a one-time code (24 hours, once) with which the person chooses a new password at
    /console/set-password; any earlier unused code stops working. The operator's, at the host:
    the console has no password reset (an administrator could take over the account it reset)."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            code, expires_at = identity_service.reset_password_code(
                session, username, actor="cli", clock=rt.clock
            )
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(
        f"[bold]One-time code for {username}[/] (works once, until {expires_at:%Y-%m-%d %H:%M} UTC, "
        "at /console/set-password):"
    )
    typer.echo(code)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. 'wallet backend'")],
    scope: Annotated[
        list[Permission], typer.Option(help="A permission the key holds; repeat for more")
    ],
) -> None:
    """Create an API key and print it once."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            key, _row = identity_service.create_api_key(
                session, name=name, scopes=scope, created_by="cli", clock=rt.clock
            )
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print("[bold]Store this key now; it is not shown again.[/]")
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """Every key by prefix, with scopes, last use and revocation."""
    rt = runtime()
    with rt.transaction() as session:
        keys = identity_service.list_api_keys(session)
        table = Table(title="API keys")
        for column in ("id", "prefix", "name", "scopes", "last used", "revoked"):
            table.add_column(column)
        for k in keys:
            table.add_row(
                str(k.id),
                f"rk_{k.prefix}",
                k.name,
                ", ".join(k.scopes),
                str(k.last_used_at or "—"),
                str(k.revoked_at or ""),
            )
    console.print(table)
    console.print(f"scopes an API key can hold: {', '.join(sorted(API_KEY_SCOPES))}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `recoup apikeys list`)")],
) -> None:
    """Revoke a key; it stops working at once."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            identity_service.revoke_api_key(session, key_id, clock=rt.clock)
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(f"revoked key {key_id}")
