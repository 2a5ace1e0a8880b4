"""Message templates: Jinja2 in a sandbox, per channel, language (zh-CN, zh-TW, en) and tone
(gentle, neutral, firm), with money and dates formatted for the debtor's locale by Babel.

A template may use only the variables in `VARIABLES` and the filters `money` and `date`; the
sandbox refuses attribute tricks (`''.__class__`...), and an unknown variable is an error, not an
empty string. `check` is what saving a template runs: it renders a preview with sample data and
asks the compliance guard about the text for every jurisdiction the template may be used in
(forbidden content, required elements such as the opt-out instruction and the creditor's name).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from babel import Locale
from babel.dates import format_date
from jinja2 import StrictUndefined, Template, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from recoup.compliance import Guard, Reason, check_content
from recoup.compliance.codes import Code
from recoup.contact.sms import SmsLength, sms_length
from recoup.kit.money import format_money

LANGUAGES = {"zh-CN": "zh_CN", "zh-TW": "zh_TW", "en": "en_US"}
TONES = ("gentle", "neutral", "firm")
CHANNELS = ("sms", "email", "push", "in_app", "letter", "wechat", "whatsapp")
# Messages the debtor asked for or is owed an answer to, never about collecting: an opt-out's
# confirmation, a one-time code, a supervisor's answer to a settlement, a reply to a case.
SERVICE = frozenset(
    {
        "opt_out_confirmation",
        "one_time_code",
        "settlement_approved",
        "settlement_refused",
        "case_received",
        "case_answered",
    }
) | frozenset(
    {
        # The assistant's answers to a debtor who wrote (recoup.assistant): checked for forbidden
        # content when saved and again when sent.
        "assistant_promise",
        "assistant_arrange_link",
        "assistant_plan_made",
        "assistant_extension_made",
        "assistant_pay_link",
        "assistant_balance",
        "assistant_already_paid",
        "assistant_case_received",
        "assistant_handover",
        "assistant_vulnerable",
        "assistant_not_understood",
        "assistant_ask_date",
        "assistant_stopped",
        "assistant_ask_budget",
        "assistant_alternatives",
    }
)
ASSISTANT = frozenset(name for name in SERVICE if name.startswith("assistant_"))
VARIABLES = {
    "first_name": "the debtor's given name (or the name as held)",
    "creditor_name": "who is owed (the wallet or lender)",
    "amount_minor": "what is due on the next due date, in minor units",
    "overdue_minor": "the amount overdue, in minor units",
    "currency": "ISO 4217 code",
    "due_date": "the due date",
    "days_past_due": "days past due",
    "pay_link": "the signed link to pay or arrange a plan",
    "survey_link": "the signed link to the post-repayment survey (the same link's /survey page)",
    "learn_link": (
        "the signed link to the learning centre; append an article's slug for the article "
        "({{ learn_link }}/credit-record)"
    ),
    "opt_out": "how to stop these messages on this channel",
    "support_phone": "where to call",
    "code": "a one-time code the debtor asked for in the portal (service messages only)",
    "promised_minor": "the amount of the promise the assistant recorded (its answer only)",
    "promised_date": "the day of the promise the assistant recorded (its answer only)",
    "promise_days": (
        "how many days ahead the policy lets the debtor promise to pay, 0 for none (the "
        "assistant's alternatives only)"
    ),
}
SAMPLES: dict[str, dict[str, Any]] = {
    "zh-CN": {
        "first_name": "小明",
        "currency": "CNY",
        "support_phone": "400-000-0000",
    },
    "zh-TW": {
        "first_name": "小明",
        "currency": "TWD",
        "support_phone": "0800-000-000",
    },
    "en": {
        "first_name": "Alex",
        "currency": "USD",
        "support_phone": "1-800-555-0100",
    },
}


# How to stop messages, per channel and language: what `{{ opt_out }}` renders to.
IN_THE_APP = {
    "zh-CN": "可在App设置中退订提醒。",
    "zh-TW": "可在App設定中退訂提醒。",
    "en": "To unsubscribe, turn these off in the app's settings.",
}
OPT_OUT = {
    "sms": {"zh-CN": "回复TD退订", "zh-TW": "回覆TD退訂", "en": "Reply STOP to opt out."},
    "push": IN_THE_APP,
    "in_app": IN_THE_APP,
    "email": {"zh-CN": "退订：{url}", "zh-TW": "退訂：{url}", "en": "Unsubscribe: {url}"},
    # The one-click link works whatever the platform lets a reply do.
    "wechat": {"zh-CN": "退订：{url}", "zh-TW": "退訂：{url}", "en": "Unsubscribe: {url}"},
    "whatsapp": {"zh-CN": "退订：{url}", "zh-TW": "退訂：{url}", "en": "Unsubscribe: {url}"},
    # A letter is not an electronic message; it says how to reach us instead.
    "letter": {
        "zh-CN": "如不希望再收到信函，请致电客服告知。",
        "zh-TW": "如不希望再收到信函，請來電客服告知。",
        "en": "To stop letters, call or write to us.",
    },
}


def opt_out_sample(channel: str, language: str) -> str:
    """What a preview shows for the opt-out instruction: the channel's own, as the dispatcher
    renders it (an e-mail's carries an unsubscribe link, not an SMS's "Reply STOP")."""
    return OPT_OUT.get(channel, IN_THE_APP)[language].format(url="https://pay.example/u/AbC123")


def language_for(preferred: str | None, jurisdiction: str) -> str:
    """The language Recoup writes to a person in: theirs if it is one of ours, else the
    jurisdiction's (Simplified Chinese in mainland China, English elsewhere)."""
    if preferred in LANGUAGES:
        return str(preferred)
    if preferred and preferred.lower().startswith("zh"):
        return "zh-TW" if preferred.lower() in ("zh-hk", "zh-mo", "zh-hant") else "zh-CN"
    return "zh-CN" if jurisdiction == "CN" else "en"


def sample(language: str, channel: str = "sms") -> dict[str, Any]:
    """Preview data for a language and channel: what a real message would carry."""
    return {
        "creditor_name": "Recoup Wallet",
        "amount_minor": 123_456,
        "overdue_minor": 45_600,
        "due_date": dt.date(2026, 6, 15),
        "days_past_due": 12,
        "pay_link": "https://pay.example/r/AbC123",
        "survey_link": "https://pay.example/r/AbC123/survey",
        "learn_link": "https://pay.example/r/AbC123/learn",
        "code": "402917",
        "promised_minor": 50_000,
        "promised_date": dt.date(2026, 6, 19),
        "promise_days": 7,
        **SAMPLES[language],
        "opt_out": opt_out_sample(channel, language),
    }


class TemplateProblem(ValueError):
    pass


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    channel: str
    language: str
    tone: str
    body: str
    subject: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.name, self.channel, self.language, self.tone)


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str
    sms: SmsLength | None


# A message is a few hundred characters; these bounds are far above any template's need and far
# below what would hurt a worker rendering thousands.
MAX_TEXT = 50_000  # characters of output, and of any string or list an expression builds
MAX_ARGUMENT = 10_000  # any number given to a filter or a method (widths, counts, lengths)
MAX_RANGE = 10_000  # elements all of one render's `range` calls may produce together
MAX_BITS = 4_096  # an integer an expression computes
_range_budget: ContextVar[list[int]] = ContextVar("template_range_budget")


def _budgeted_range(*args: int) -> range:
    numbers = range(*args)
    budget = _range_budget.get([MAX_RANGE])
    budget[0] -= len(numbers)
    if budget[0] < 0:
        raise SecurityError(f"ranges in a template may produce {MAX_RANGE:,} numbers in all")
    return numbers


def _check_arguments(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and abs(arg) > MAX_ARGUMENT:
            raise SecurityError(f"a number given to a filter or method may be {MAX_ARGUMENT:,}")


def _bounded_filter(filter_: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        # The filtered value is the first argument (the environment, when passed, comes first).
        _check_arguments([*args[1:], *kwargs.values()])
        result = filter_(*args, **kwargs)
        if isinstance(result, str | list | tuple) and len(result) > MAX_TEXT:
            raise SecurityError(f"a template's text may be {MAX_TEXT:,} characters")
        return result

    for attribute in ("jinja_pass_arg",):  # keep @pass_environment / @pass_context markers
        if hasattr(filter_, attribute):
            setattr(bounded, attribute, getattr(filter_, attribute))
    return bounded


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox (no attribute or class escapes) with bounds on what an expression
    may cost: strings and lists it builds, numbers it computes, numbers it hands to filters and
    methods, ranges, and the output. A template over a bound is a `TemplateProblem`, not a worker
    out of memory (`{{ 'x' * 10**8 }}`) or a CPU held for minutes (nested `range(10**5)`)."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and (
            not isinstance(right, int | float)
            or abs(right) > 64
            or (isinstance(left, int) and left.bit_length() > 64)
        ):
            raise SecurityError("a power in a template takes a small base and exponent")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("%-formatting is not available in templates")
        if operator == "*":
            sequence, times = (
                (left, right) if isinstance(left, str | list | tuple) else (right, left)
            )
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(times, int)
                and len(sequence) * times > MAX_TEXT
            ):
                raise SecurityError(f"a template's text may be {MAX_TEXT:,} characters")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, str | list | tuple) and len(result) > MAX_TEXT:
            raise SecurityError(f"a template's text may be {MAX_TEXT:,} characters")
        if isinstance(result, int) and result.bit_length() > MAX_BITS:
            raise SecurityError("a number in a template grew past its bound")
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(__obj, "__name__", None) in ("format", "format_map"):
            raise SecurityError("str.format is not available in templates")
        _check_arguments([*args, *kwargs.values()])
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str | list | tuple) and len(result) > MAX_TEXT:
            raise SecurityError(f"a template's text may be {MAX_TEXT:,} characters")
        return result


@lru_cache(maxsize=8)
def _environment(locale: str) -> ImmutableSandboxedEnvironment:
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=False)
    env.globals.pop("lipsum", None)  # random text of any length: nothing a message needs
    env.globals["range"] = _budgeted_range
    env.filters.pop("format", None)  # %-formatting with any width
    env.filters = {name: _bounded_filter(f) for name, f in env.filters.items()}
    parsed = Locale.parse(locale)  # once: Babel parses a locale name anew on every call
    style = "long" if locale.startswith("zh") else "medium"

    def money(amount_minor: int, currency: str) -> str:
        return format_money(int(amount_minor), currency, parsed)

    def date(value: dt.date) -> str:
        return format_date(value, format=style, locale=parsed)

    env.filters["money"] = money
    env.filters["date"] = date
    return env


def render(template: MessageTemplate, variables: Mapping[str, Any]) -> Rendered:
    unknown = sorted(set(variables) - set(VARIABLES))
    if unknown:
        raise TemplateProblem(f"unknown variable(s) {', '.join(unknown)}")
    locale = LANGUAGES[template.language]
    budget = _range_budget.set([MAX_RANGE])
    try:
        body = _fill(locale, template.body, variables)
        subject = _fill(locale, template.subject, variables) if template.subject else None
    except (TemplateError, OverflowError) as exc:  # SecurityError is a TemplateError
        raise TemplateProblem(
            f"{template.name} ({template.language}, {template.tone}): {exc}"
        ) from exc
    finally:
        _range_budget.reset(budget)
    return Rendered(
        subject, body.strip(), sms_length(body.strip()) if template.channel == "sms" else None
    )


# A template's text as Jinja parses it: literal text, and `(variable, filter, filter's arguments)`
# for each `{{ variable }}` or `{{ variable|filter(argument, ...) }}` (filter None for none).
Piece = str | tuple[str, str | None, tuple[str, ...]]


def _fill(locale: str, source: str, variables: Mapping[str, Any]) -> str:
    """The template rendered. A text of literal parts and plain substitutions (nearly every
    message) is filled in directly, as Jinja's compiled code for it does (`str` of each value, or
    of the filter's answer, in order); anything else, a variable missing, or an output past the
    bound goes through Jinja, which renders or raises as before."""
    found = _pieces(locale, source)
    if found is not None and found[1] <= variables.keys():
        filters = _environment(locale).filters
        out = "".join(
            piece
            if isinstance(piece, str)
            else str(variables[piece[0]])
            if piece[1] is None
            else str(filters[piece[1]](variables[piece[0]], *(variables[a] for a in piece[2])))
            for piece in found[0]
        )
        if len(out) <= MAX_TEXT:
            return out
    return _bounded_render(_compiled(locale, source), variables)


@lru_cache(maxsize=512)
def _pieces(locale: str, source: str) -> tuple[tuple[Piece, ...], frozenset[str]] | None:
    """The text's pieces from Jinja's own parse (so its line endings and trailing newline are
    Jinja's), with the variables they name; None when the text uses anything but literal text,
    variables and the `money` and `date` filters with variables as arguments."""
    try:
        tree = _environment(locale).parse(source)
    except TemplateError:
        return None
    pieces: list[Piece] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                pieces.append(child.data)
            elif isinstance(child, nodes.Name) and child.ctx == "load":
                pieces.append((child.name, None, ()))
            elif (
                isinstance(child, nodes.Filter)
                and child.name in ("money", "date")
                and isinstance(child.node, nodes.Name)
                and not child.kwargs
                and child.dyn_args is None
                and child.dyn_kwargs is None
                and all(isinstance(a, nodes.Name) for a in child.args)
            ):
                arguments = tuple(a.name for a in child.args if isinstance(a, nodes.Name))
                pieces.append((child.node.name, child.name, arguments))
            else:
                return None
    names = frozenset(name for p in pieces if not isinstance(p, str) for name in (p[0], *p[2]))
    return tuple(pieces), names


def _bounded_render(compiled: Template, variables: Mapping[str, Any]) -> str:
    """The output, stopped as soon as it passes `MAX_TEXT` characters."""
    parts: list[str] = []
    size = 0
    for part in compiled.generate(**variables):
        size += len(part)
        if size > MAX_TEXT:
            raise SecurityError(f"a template's text may be {MAX_TEXT:,} characters")
        parts.append(part)
    return "".join(parts)


@lru_cache(maxsize=512)
def names_the_debtor(source: str) -> bool:
    """Does a template's text greet the debtor by name (`first_name`)? Personalised messages are
    the ones field studies find work (Karlan et al. 2016)."""
    parsed = _environment("en_US").parse(source)
    return "first_name" in meta.find_undeclared_variables(parsed)


@lru_cache(maxsize=512)
def _compiled(locale: str, source: str) -> Template:
    """Compiled once per text: the dispatcher renders the same few templates thousands of times."""
    return _environment(locale).from_string(source)


def check(
    template: MessageTemplate,
    guard: Guard,
    jurisdictions: Iterable[str],
    *,
    collector: str = "creditor",
) -> list[Reason]:
    """Render a preview with sample data and ask the guard about it in every jurisdiction. A service
    message (`SERVICE`: sent because the debtor asked, never about the debt) must say nothing a
    pack forbids, but owes none of the elements a collection message must carry."""
    preview = render(template, sample(template.language))
    text = "\n".join(p for p in (preview.subject, preview.body) if p)
    found: list[Reason] = []
    for jurisdiction in jurisdictions:
        found.extend(
            r
            for r in check_content(
                guard,
                text,
                language=template.language,
                channel=template.channel,
                jurisdiction=jurisdiction,
                collector=collector,
                creditor_name="Recoup Wallet",
            )
            if template.name not in SERVICE or r.code == Code.CONTENT_FORBIDDEN
        )
    return found


@lru_cache(maxsize=1)
def shipped() -> tuple[MessageTemplate, ...]:
    """The templates Recoup ships (`templates.yaml`), seeded into the database as first versions."""
    text = (resources.files("recoup.contact") / "templates.yaml").read_text(encoding="utf-8")
    out = []
    for item in yaml.safe_load(text)["templates"]:
        for language, tones in item["texts"].items():
            for tone, body in tones.items():
                if (
                    language not in LANGUAGES
                    or tone not in TONES
                    or item["channel"] not in CHANNELS
                ):
                    raise TemplateProblem(f"{item['name']}: bad language, tone or channel")
                out.append(
                    MessageTemplate(
                        item["name"],
                        item["channel"],
                        language,
                        tone,
                        body.strip(),
                        item.get("subject", {}).get(language),
                    )
                )
    return tuple(out)
