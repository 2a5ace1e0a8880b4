"""`recoup assistant ...`: classify debtors' messages, train the intent model, measure it.

The understanding is `recoup.assistant.understanding`'s; these commands read files and print.
No database is opened.

`classify` reads JSON Lines (a file, or standard input for `-`) and writes one JSON line per
message, in input order. Like `recoup import`, a file with any bad line classifies nothing: the
first bad line is named on standard error (its number and field) and the exit status is 2; with
`--skip-invalid` every good line is classified and each bad one is reported on standard error
(exit status 0 when at least one line was good).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recoup.assistant import classifier, dataset, understanding
from recoup.assistant.dataset import Message, MessageError
from recoup.cli.common import console, err_console, fail
from recoup.kit.money import is_currency

assistant_app = typer.Typer(
    help="The debtors' assistant: classify messages, train and measure its intent model.",
    no_args_is_help=True,
)

BAD_INPUT = 2
MAX_LINES = 1_000_000
MAX_LINE = 16_384  # characters of one input line (a text is at most 2,000)


def _bad(message: str) -> typer.Exit:
    return fail(message, code=BAD_INPUT)


def _lines(source: str) -> Iterator[tuple[int, str]]:
    if source == "-":
        stream = sys.stdin
    else:
        path = Path(source)
        if not path.is_file():
            raise _bad(f"{source}: no such file")
        try:
            stream = path.open(encoding="utf-8")
        except OSError as exc:
            raise _bad(f"{source}: cannot read ({exc.strerror})") from None
    with stream:
        try:
            for number, line in enumerate(stream, start=1):
                if number > MAX_LINES:
                    raise _bad(f"{source}: more than {MAX_LINES:,} lines; split the file")
                yield number, line
        except UnicodeDecodeError:
            raise _bad(f"{source}: not UTF-8 text") from None


def _read(source: str, *, skip_invalid: bool) -> list[Message]:
    messages: list[Message] = []
    bad = 0
    for number, line in _lines(source):
        if not line.strip():
            continue
        try:
            if len(line) > MAX_LINE:
                raise MessageError(f"the line is longer than {MAX_LINE:,} characters")
            messages.append(dataset.read_message(line))
        except MessageError as exc:
            where = f"line {number}" + (f", field {exc.field}" if exc.field else "")
            if not skip_invalid:
                raise _bad(f"{source}: {where}: {exc}; nothing was classified") from None
            err_console.print(f"[yellow]skipped[/] {source}: {where}: {exc}")
            bad += 1
    if bad and not messages:
        raise _bad(f"{source}: no good line ({bad} skipped)")
    return messages


@assistant_app.command("classify")
def classify(
    source: Annotated[
        str, typer.Argument(help="JSON Lines of {id, text, at, language?}; - for stdin")
    ],
    currency: Annotated[str, typer.Option(help="the currency amounts are read in")] = "CNY",
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="classify the good lines, report the rest")
    ] = False,
) -> None:
    """One JSON line per message, in input order: {"id", "intent", "confidence", "entities":
    {"amount_minor", "date"}}."""
    if not is_currency(currency):
        raise _bad(f"--currency {currency!r} is not an ISO 4217 code")
    messages = _read(source, skip_invalid=skip_invalid)
    out = sys.stdout
    understood = understanding.understand_many(
        [(m.text, m.at, m.language) for m in messages], currency=currency
    )
    for m, u in zip(messages, understood, strict=True):
        row = {
            "id": m.id,
            "intent": u.intent,
            "confidence": u.confidence,
            "entities": {
                "amount_minor": u.amount_minor,
                "date": u.date.isoformat() if u.date else None,
            },
        }
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.flush()


def _shipped_model() -> Path:
    return Path(str(resources.files("recoup.assistant").joinpath(understanding.MODEL_FILE)))


def _labelled(data: Path | None, *, split: str | None = None) -> list[dataset.Labelled]:
    source = dataset.SPLIT_FILES.get(split or "", dataset.DATA_FILE)
    try:
        text = data.read_text(encoding="utf-8") if data else None
        return dataset.load(text, source=source)
    except OSError as exc:
        raise _bad(f"{data}: cannot read ({exc.strerror})") from None
    except MessageError as exc:
        raise _bad(f"{data or dataset.DATA_FILE}: {exc}") from None


@assistant_app.command("train")
def train(
    data: Annotated[
        Path | None, typer.Option(help="a labelled set (default: the shipped one)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="where to write the model (default: the shipped one)")
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="write nothing; fail unless training gives the same file"),
    ] = False,
) -> None:
    """Train the intent model on the set's train split and write it as JSON. The same rows give
    the same file, byte for byte."""
    rows = [r for r in _labelled(data) if r.split == "train"]
    if not rows:
        raise _bad("the labelled set has no train split")
    with console.status(f"training on {len(rows):,} messages"):
        try:
            model = classifier.train(
                [r.message.text for r in rows],
                [r.intent for r in rows],
                extras=[understanding.message_signals(r.message.text, r.message.at) for r in rows],
            )
        except classifier.ClassifierError as exc:
            raise _bad(str(exc)) from None
    text = classifier.dumps(model)
    target = out or _shipped_model()
    if check:
        same = target.is_file() and target.read_text(encoding="utf-8") == text
        if not same:
            raise fail(f"{target}: training again gives a different model")
        console.print(f"{target}: training again gives the same model ({len(text):,} bytes)")
        return
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _bad(f"{target}: cannot write the model ({exc.strerror})") from None
    console.print(
        f"{len(rows):,} messages, {len(model.vocabulary):,} terms, {len(model.classes)} intents; "
        f"written to [bold]{target}[/] ({len(text):,} bytes)"
    )


def _pct(value: float) -> str:
    return f"{value:.1%}"


@assistant_app.command("evaluate")
def evaluate(
    data: Annotated[
        Path | None, typer.Option(help="a labelled set (default: the shipped one)")
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            help="the split to measure: test, simulator or unseen2 to unseen7 (their own files; unseen6 trained on since the eighth wave)"
        ),
    ] = "test",
    misses: Annotated[
        int, typer.Option(min=0, max=1000, help="list this many misclassified messages")
    ] = 0,
    leave_out: Annotated[
        Path | None,
        typer.Option(help="a file of message ids (one a line) to leave out of the measure"),
    ] = None,
) -> None:
    """Precision, recall and F1 per intent and per language, macro F1, recall of stop and
    vulnerable, and how often a promise's amount and date are read exactly, on a split the model
    was not trained on (the language is detected, not given)."""
    if split not in dataset.SPLITS:
        raise _bad(f"--split {split!r}: one of {', '.join(dataset.SPLITS)}")
    left_out: set[str] = set()
    if leave_out is not None:
        try:
            left_out = set(leave_out.read_text(encoding="utf-8").split())
        except OSError as exc:
            raise _bad(f"{leave_out}: cannot read ({exc.strerror})") from None
    rows = [
        r for r in _labelled(data, split=split) if r.split == split and r.message.id not in left_out
    ]
    if not rows:
        raise _bad(f"the labelled set has no {split} split" + (" left" if left_out else ""))
    understood = understanding.understand_many([(r.message.text, r.message.at, None) for r in rows])
    result = dataset.evaluate(rows, understood)
    table = Table(title=f"intents on the {split} split ({result.rows:,} messages)")
    for column in ("intent", "precision", "recall", "F1", "messages"):
        table.add_column(column, justify="left" if column == "intent" else "right")
    for intent, s in result.per_intent.items():
        table.add_row(intent, _pct(s.precision), _pct(s.recall), f"{s.f1:.3f}", str(s.support))
    console.print(table)
    grid = Table(title="F1 per intent and language (precision / recall)")
    grid.add_column("intent")
    shown = list(result.per_language)
    for language in shown:
        grid.add_column(language, justify="right")
    for intent in result.per_intent:
        cells = []
        for language in shown:
            cell = result.per_intent_language.get((intent, language))
            cells.append(
                "-" if cell is None else f"{cell.f1:.2f} ({cell.precision:.0%} / {cell.recall:.0%})"
            )
        grid.add_row(intent, *cells)
    console.print(grid)
    languages = Table(title="per language")
    for column in ("language", "macro F1", "messages"):
        languages.add_column(column, justify="left" if column == "language" else "right")
    for language, f1 in result.per_language.items():
        languages.add_row(language, f"{f1:.3f}", str(result.per_language_rows[language]))
    console.print(languages)
    console.print(f"macro F1: [bold]{result.macro_f1:.3f}[/] (accuracy {_pct(result.accuracy)})")
    console.print(
        f"recall of stop: [bold]{_pct(result.recall_stop)}[/], of vulnerable: "
        f"[bold]{_pct(result.recall_vulnerable)}[/]"
    )
    console.print(
        f"false alarms among the {result.neither} messages of neither intent: read as stop "
        f"{result.false_stop}, as vulnerable {result.false_vulnerable}"
    )
    console.print(
        f"promises: {result.promises}; amount exact {_pct(result.amount_exact)}, date exact "
        f"{_pct(result.date_exact)}, both {_pct(result.both_exact)}"
    )
    console.print(f"language detected correctly: {_pct(result.language_detected)}")
    for labelled, u in result.missed[:misses]:
        console.print(
            f"  {labelled.message.id}: {labelled.intent} read as {u.intent} "
            f"({u.confidence:.2f}): {labelled.message.text!r}",
            markup=False,
        )
