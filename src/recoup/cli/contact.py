"""`recoup worker` and `recoup contact ...`: send the outbox, explain a contact, handle dead letters."""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter
from functools import partial
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table
from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.channels.config import ChannelConfigError, load_channels
from recoup.cli.common import Runtime, console, fail, runtime
from recoup.config import Environment
from recoup.contact import service as contact_service
from recoup.contact.dispatch import DispatchConfig
from recoup.kit.errors import RecoupError
from recoup.risk import service as risk_service
from recoup.worker.dispatcher import Dispatcher, worker_name

contact_app = typer.Typer(
    help="Contacts: explain one, list and retry dead letters.", no_args_is_help=True
)


def make_dispatcher(rt: Runtime, name: str | None = None) -> Dispatcher:
    try:
        channels = load_channels(
            rt.settings.channels_file,
            spool_dir=rt.settings.spool_dir,
            production=rt.settings.env is Environment.production,
            spool=rt.settings.channels_spool,
        )
    except ChannelConfigError as exc:
        raise fail(str(exc)) from exc
    try:
        return Dispatcher(
            rt.sessions,
            channels.adapters(),
            clock=rt.clock,
            config=DispatchConfig.from_settings(
                rt.settings, name or worker_name(), at_least_once=channels.at_least_once
            ),
            audit_tail=partial(audit_service.checkpoint_due, clock=rt.clock),
        )
    except RecoupError as exc:  # a kill point where none may be
        raise fail(exc.message) from exc


def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="stop when nothing is due instead of waiting")
    ] = False,
    name: Annotated[str | None, typer.Option(help="this worker's name (default host:pid)")] = None,
    idle_seconds: Annotated[float, typer.Option(help="pause when nothing is due")] = 1.0,
) -> None:
    """Send due contacts through the configured channels (RECOUP_CHANNELS_FILE; without it, into
    the spool directory, which production refuses). Several workers may share a PostgreSQL
    database; on SQLite run one. Stops cleanly on Ctrl-C or SIGTERM after the batch in hand."""
    rt = runtime()
    dispatcher = make_dispatcher(rt, name)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    total: Counter[str] = Counter()

    def table() -> Table:
        t = Table(title=f"worker {dispatcher.config.worker}")
        t.add_column("outcome")
        t.add_column("contacts", justify="right")
        for status, n in sorted(total.items()):
            t.add_row(status, f"{n:,}")
        return t

    try:
        with Live(table(), console=console, refresh_per_second=4, transient=False) as live:

            def on_batch(outcomes: Counter[str]) -> None:
                total.update(outcomes)
                live.update(table())

            dispatcher.run(
                stop=stop, until_idle=until_idle, idle_seconds=idle_seconds, on_batch=on_batch
            )
    except RecoupError as exc:
        raise fail(exc.message) from exc
    finally:
        dispatcher.close()


@contact_app.command("explain")
def explain(
    contact_id: Annotated[int, typer.Argument(help="the contact's id")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Why a contact was planned, what the guard said at plan and send time, what was sent, and
    what happened after."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            data = contact_service.explain(session, contact_id)
            data["scores"] = scores_of(session, data["contact"]["account_id"])
    except RecoupError as exc:
        raise fail(exc.message) from exc
    if as_json:
        console.print_json(json.dumps(data, ensure_ascii=False))
        return
    _print_explanation(data)


def learning_line(learning: dict[str, Any]) -> str:
    """The learner's choice in a line: arm, value ± sd, cell and its facts, the mode; then the
    hour a learned hand-off queue's call was given (or that it gave none), when there is one."""
    parts = []
    if learning.get("arm"):
        call = learning.get("call_value")
        p_pay = learning.get("p_pay")
        parts.append(
            f"learned: arm {learning['arm']} ({learning['mode']}), value "
            f"{_estimate(learning)} (minor units over {learning.get('horizon')} days), "
            f"cell {learning['cell']}{_facts(learning)}"
            + (f", p_pay {p_pay:.2f}" if p_pay is not None else "")
            + (f", call value/min {call:,.1f}" if call is not None else "")
        )
    hour = learning.get("queue_hour")
    if hour:
        # The queue's none arm: the account was given no call from the queue that day; a
        # message arm: that message in the call's place.
        channel = hour.get("channel") or "call"
        what = (
            "no call today"
            if channel == "none"
            else f"call from {hour['window_from']}"
            if channel == "call"
            else f"{channel} from {hour['window_from']} in place of the call"
        )
        parts.append(
            f"queue {hour['queue']}: {what}, arm {hour['arm']} "
            f"({hour['mode']}), value {_estimate(hour)} (minor units over "
            f"{hour.get('horizon')} days), cell {hour['cell']}{_facts(hour)}"
        )
    return "; ".join(parts)


def _estimate(choice: dict[str, Any]) -> str:
    value, sd = choice.get("value"), choice.get("sd")
    return f"{value:,.0f} ± {sd:,.0f}" if value is not None and sd is not None else "-"


def _facts(choice: dict[str, Any]) -> str:
    facts = ", ".join(f"{c['fact']}={c['value']}" for c in choice.get("context") or [])
    return f" [{facts}]" if facts else ""


def scores_of(session: Session, account_id: int) -> list[dict[str, Any]]:
    """The account's latest risk scores with their reasons in words (zh-CN and en)."""
    return [
        {
            "kind": e.kind,
            "as_of_date": e.as_of_date.isoformat(),
            "score": round(e.score, 4),
            "model_id": e.model_id,
            "reasons": e.reasons,
        }
        for e in risk_service.explain(session, account_id)
    ]


def print_scores(scores: list[dict[str, Any]]) -> None:
    for s in scores:
        console.print(
            f"[bold]{s['kind']}[/] {s['score']:.2f} on {s['as_of_date']} (model {s['model_id']})"
        )
        for r in s["reasons"]:
            console.print(f"  · {r['en']} / {r['zh-CN']}", markup=False)


def _print_guard(title: str, g: dict[str, Any] | None) -> None:
    """A verdict as `contact.service.explain` tells it: its moment in UTC and in the debtor's
    zones, the packs, each rule's verdict (or the reason codes of a decision that kept only
    those)."""
    if not g:
        console.print(f"{title}: -")
        return
    if "rules" not in g:
        console.print(f"{title}: {', '.join(g.get('codes') or []) or 'allowed'}")
        return
    local = ", ".join(f"{x['at'][11:16]} {x['zone']}" for x in g["local"] if x["at"])
    console.print(
        f"{title}: [bold]{g['decision']}[/] at {g['at']} ({local}); packs {', '.join(g['packs'])}"
    )
    for r in g["rules"]:
        code = f" {r['code']}" if r["code"] else ""
        console.print(f"  · {r['rule']} ({r['pack']}): {r['verdict']}{code}", markup=False)
    if not g["complete"]:
        console.print(
            "  (the packs kept are not the versions loaded: the rules that passed are not listed)"
        )


def _print_explanation(data: dict[str, Any]) -> None:
    c = data["contact"]
    console.print(
        f"[bold]contact {c['id']}[/] account {c['account_id']} · {c['as_of_date']} · "
        f"{c['stage']} / {c['treatment']} · {c['channel']} · [bold]{c['status']}[/]"
        + (f" · result [bold]{c['result']}[/]" if c["result"] else "")
    )
    d = data["decision"]
    if d:
        console.print(
            f"planned by {d['policy']}: segment {d['segment'] or '-'}, "
            f"experiment {d['experiment'] or '-'} arm {d['arm'] or '-'}"
        )
        _print_guard("guard at plan time", d["guard_at_plan"])
        if d.get("learning"):
            console.print(learning_line(d["learning"]), markup=False)
    if c["reasons"]:
        console.print(f"reasons now: {', '.join(map(str, c['reasons']))}")
    if data.get("scores"):
        console.print("\n[bold]risk scores[/]")
        print_scores(data["scores"])
    if data["sent"]:
        s = data["sent"]
        what = ", ".join(p for p in (s["template"], s["language"]) if p)
        console.print(f"\n[bold]sent[/] ({what})")
        if s["subject"]:
            console.print(f"subject: {s['subject']}")
        console.print(s["body"], markup=False)
    table = Table(title="history")
    for column in ("at (UTC)", "status", "by", "detail"):
        table.add_column(column)
    for e in data["history"]:
        detail = {k: v for k, v in e["detail"].items() if k != "guard"}
        guard = e["detail"].get("guard")
        if guard:
            detail["guard"] = [f"{r['rule']}: {r['message']}" for r in guard["reasons"]]
        table.add_row(e["at"][:19], e["status"], e["by"], json.dumps(detail, ensure_ascii=False))
    console.print(table)
    for e in data["history"]:
        if e.get("guard"):
            _print_guard(f"guard at send time ({e['at'][:19]}, {e['status']})", e["guard"])


@contact_app.command("failed")
def failed(limit: Annotated[int, typer.Option(help="at most this many")] = 50) -> None:
    """The dead letters: contacts no provider took, with the reason."""
    rt = runtime()
    with rt.transaction() as session:
        rows = contact_service.dead_letters(session, limit=limit)
        table = Table(title="dead letters")
        for column in ("id", "account", "channel", "treatment", "attempts", "reason"):
            table.add_column(column)
        for c in rows:
            table.add_row(
                str(c.id),
                str(c.account_id),
                c.channel,
                c.treatment,
                str(c.attempts),
                "; ".join(map(str, c.reasons)),
            )
    console.print(table)


@contact_app.command("retry")
def retry(contact_id: Annotated[int, typer.Argument(help="a dead letter's id")]) -> None:
    """Put a dead letter back in the outbox (after fixing its cause): the send-time checks run again."""
    rt = runtime()
    try:
        with rt.transaction() as session:
            contact_service.retry(session, contact_id, actor="cli", clock=rt.clock)
    except RecoupError as exc:
        raise fail(exc.message) from exc
    console.print(f"contact {contact_id} is back in the outbox")
