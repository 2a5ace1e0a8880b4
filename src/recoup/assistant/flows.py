"""The assistant at work: a debtor's message understood (`assistant.understanding`), acted on
through the same flows the portal and the agents use, and answered through the outbox.

What each intent does (nothing here writes another package's table: each step asks its owner):

- `promise_to_pay`: `arrangements.flows.promise` for the amount and day understood (the amount
  overdue when none is said), within the policy's bounds; no day said: it asks for one.
- `payment_plan`, `extension`: in the portal's chat, which comes after the identity step, the
  plan or extension is made (`arrangements.flows.plan` / `extension`, the instalments said or
  the most the policy allows); by SMS the answer is the pay link, where the identity step is.
- `dispute`, `hardship`, `complaint`: `cases.flows.open_case` with the debtor's own words (a
  dispute or hardship pauses the accounts there).
- `vulnerable`: a hardship case (every open account paused, contacts cancelled) and an urgent
  task for a person, whatever the confidence and even when a person already has the
  conversation.
- `stop`: the channel opted out (`contact.flows.opt_out_customer`) and its one confirmation.
- `wrong_person`: the number is opted out of SMS and calls for this customer with the evidence,
  and nothing is answered: no word about a debt goes to someone who is not the debtor.
- `balance_question`, `pay_now`, `already_paid`: answered from the ledger's facts (the
  dispatcher fills them in when it sends); "I have paid" with no payment in the ledger for a
  week opens a task to look for it.
- `talk_to_human`, a confidence under `LOW_CONFIDENCE`, or `MISUNDERSTANDINGS` messages in a row
  it could not act on: handed over (a task in the `conversations` queue; the conversation in the
  console), and the assistant stays quiet while a person has it.

Every answer is one of the approved `assistant_*` templates (each says it is an automated
assistant): by SMS a service message through the outbox (the dispatcher renders it and asks the
content rules again at send time); in the chat the same approved text, checked the same way, is
shown at once. Every turn is kept sealed and audited (`assistant.service`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from recoup.agents import service as agents_service
from recoup.arrangements import flows as arrangement_flows
from recoup.arrangements import offers as arrangement_offers
from recoup.arrangements import service as arrangement_service
from recoup.assistant import service
from recoup.assistant.understanding import Understanding, understand, written_language
from recoup.audit import service as audit_service
from recoup.cases import flows as case_flows
from recoup.contact import flows as contact_flows
from recoup.contact import repository as contact_repository
from recoup.contact import service as contact_service
from recoup.contact.flows import InboundResult
from recoup.contact.templates import language_for
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, RecoupError
from recoup.ledger import service as ledger_service
from recoup.ledger.repository import AccountRepository
from recoup.models import Account, Conversation, ConversationState, ConversationTurn, Customer

ACTOR = "assistant"
LOW_CONFIDENCE = 0.5  # under it the assistant does not act: a person reads the message
MISUNDERSTANDINGS = 2  # in a row, then a person takes over
HANDOVER_QUEUE = "conversations"
URGENT = 1_000_000.0  # a person in crisis comes before every queue's work
HANDOVER_PRIORITY = 100.0
PAID_LOOKBACK = dt.timedelta(days=7)
# Acted on whatever the confidence: a crisis (pausing everything and calling a person is never
# the wrong move) and a request for a person. A doubtful `stop` or `wrong_person` goes to a person
# instead (the engine's rules give the plain ones full confidence).
ALWAYS_ACTED = frozenset({"vulnerable", "talk_to_human"})
CASE_KINDS = {"dispute": "dispute", "hardship": "hardship", "complaint": "complaint"}
# A case's reason from the debtor's words, when they say it plainly (else `other`).
REASON_WORDS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "hardship": (
        ("job_loss", ("lost my job", "laid off", "unemployed", "失业", "失業", "裁员", "裁員")),
        ("illness", ("sick", "ill", "hospital", "生病", "住院", "病")),
        ("disaster", ("flood", "fire", "earthquake", "洪水", "火灾", "火災", "地震")),
        ("income_drop", ("pay cut", "income", "降薪", "收入", "工资少", "工資少")),
        ("family", ("family", "家里", "家裡", "家人")),
    ),
    "dispute": (
        ("already_paid", ("already paid", "paid it", "已经还", "已經還", "还清", "還清")),
        ("not_mine", ("not mine", "never borrowed", "不是我的", "没借", "沒借")),
        ("fraud", ("fraud", "scam", "stolen", "诈骗", "詐騙", "盗用", "盜用")),
        ("wrong_amount", ("wrong amount", "too much", "金额不对", "金額不對", "多收")),
    ),
}
INSTALMENTS = re.compile(
    r"(\d{1,3})\s*(?:期|个月|個月|months?|instal?l?ments?|payments?)", re.IGNORECASE
)


@dataclass(frozen=True)
class Voice:
    """What the answers are signed with: the settings' creditor name and support number."""

    creditor_name: str
    support_phone: str


@dataclass(frozen=True)
class Answer:
    """What became of one message."""

    conversation_id: int
    intent: str
    action: str
    template: str | None  # the answer's template (None: nothing was answered)
    state: str
    text: str | None  # the answer as the chat shows it (and as the turn keeps it)
    promise_days: int | None = None  # the alternatives: how far ahead a promise may be (0: none)


@dataclass(frozen=True)
class _Outcome:
    action: str
    template: str | None
    subject: int | None = None  # what the answer names (a promise's id); else the turn's
    state: ConversationState | None = None
    reason: str | None = None  # why it was handed over
    promise_days: int | None = None  # the alternatives' answer: how far ahead a promise may be


@dataclass
class _Turn:
    """One inbound message and everything acting on it needs."""

    session: Session
    conversation: Conversation
    turn: ConversationTurn
    customer: Customer
    account: Account
    understood: Understanding
    text: str
    channel: str
    address_index: str | None
    clock: Clock


def on_sms(
    session: Session, received: InboundResult, *, text: str, clock: Clock, voice: Voice
) -> Answer | None:
    """An SMS reply `contact.flows.receive_sms` recorded (with `task_replies=False`): answered
    unless it was an opt-out (handled there), a repeat, or from a number we do not know."""
    if received.duplicate or received.intent != "reply" or received.customer_id is None:
        return None
    return _converse(
        session,
        received.customer_id,
        channel="sms",
        text=text,
        clock=clock,
        voice=voice,
        address_index=received.from_index,
        shown_in=None,
    )


def receive_sms(
    session: Session,
    *,
    provider: str,
    provider_id: str,
    from_number: str,
    body: str,
    region: str,
    clock: Clock,
    voice: Voice,
) -> tuple[InboundResult, Answer | None]:
    """An inbound SMS, the one road for every source (Twilio's and the gateway's webhooks, the
    simulator's debtors): recorded and opt-out words handled by `contact.flows.receive_sms`,
    then any other reply from a known number answered here (`on_sms`)."""
    received = contact_flows.receive_sms(
        session,
        provider=provider,
        provider_id=provider_id,
        from_number=from_number,
        body=body,
        region=region,
        clock=clock,
        task_replies=False,
    )
    return received, on_sms(session, received, text=body, clock=clock, voice=voice)


# Where the quoted message of a reply starts: a "> " line, the "On ... wrote:" line of Gmail and
# Apple Mail (and their Chinese forms), Outlook's "-----Original Message-----" and header block.
QUOTED = re.compile(
    r"^\s*(?:>|on .{1,200} wrote:|.{0,200}(?:写道|寫道)[:：]|-{2,}\s*original message|"
    r"-{2,}\s*(?:原始邮件|原始郵件)|from:\s|发件人[:：]|寄件者[:：])",
    re.IGNORECASE,
)
REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|回复|回覆|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)


def reply_text(text: str, subject: str = "") -> str:
    """What the debtor wrote in an e-mail reply: the lines before the quoted message (and the
    subject, without its "Re:", when the body says nothing)."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if QUOTED.match(line):
            break
        kept.append(line)
    said = " ".join(" ".join(kept).split())
    return said or " ".join(REPLY_PREFIX.sub("", subject).split())


def receive_email(
    session: Session,
    *,
    provider: str,
    message_id: str,
    from_address: str,
    subject: str,
    text: str,
    clock: Clock,
    voice: Voice,
) -> tuple[InboundResult, Answer | None]:
    """An e-mail reply from the provider's inbound webhook: recorded and matched to a customer by
    the sender's canonical address (`contact.flows.receive_email`), then, from a known sender, read
    and answered like an SMS (the answer goes by e-mail through the outbox). Nothing is answered
    to an unknown sender."""
    said = reply_text(text, subject)
    received = contact_flows.receive_email(
        session,
        provider=provider,
        message_id=message_id,
        from_address=from_address,
        body=said,
        clock=clock,
    )
    if received.duplicate or received.intent != "reply" or received.customer_id is None:
        return received, None
    answer = _converse(
        session,
        received.customer_id,
        channel="email",
        text=said,
        clock=clock,
        voice=voice,
        address_index=received.from_index,
        shown_in=None,
    )
    return received, answer


def on_chat(
    session: Session,
    customer_id: int,
    *,
    text: str,
    clock: Clock,
    voice: Voice,
    language: str,
    pay_url: str,
    chosen: bool = False,
) -> Answer | None:
    """A message typed in the portal's chat by a debtor past the identity step: answered on the
    page in the language the message is written in, else `language` (the page's, a template
    language), and always in `language` when the debtor `chosen` it (the page's language
    switch); `pay_url` is the link it offers."""
    return _converse(
        session,
        customer_id,
        channel="chat",
        text=text,
        clock=clock,
        voice=voice,
        address_index=None,
        shown_in=(language, pay_url, chosen),
    )


def _converse(
    session: Session,
    customer_id: int,
    *,
    channel: str,
    text: str,
    clock: Clock,
    voice: Voice,
    address_index: str | None,
    shown_in: tuple[str, str, bool] | None,
) -> Answer | None:
    text = text.strip()[: service.MAX_TEXT]
    if not text:
        return None
    accounts = AccountRepository(session).open_of_customer(customer_id)
    if not accounts:
        return None  # nothing owed: nothing for the assistant to do or say
    account = accounts[0]
    # Its own columns only (id, language, jurisdiction): nothing here reads its phones or e-mails.
    customer = ledger_service.get_customer(session, customer_id, contacts=False)
    zone = ZoneInfo(ledger_service.product(session, account.product_code).timezone)
    understood = understand(text, at=clock.now().astimezone(zone), currency=account.currency)
    conversation = service.conversation(
        session,
        customer_id,
        channel=channel,
        account_id=account.id,
        language=understood.language,
        clock=clock,
    )
    turn = service.add_turn(
        session,
        conversation,
        direction="in",
        text=text,
        actor=f"debtor:{channel}",
        clock=clock,
        intent=understood.intent,
        confidence=understood.confidence,
        entities={
            "amount_minor": understood.amount_minor,
            "date": understood.date.isoformat() if understood.date else None,
        },
    )
    work = _Turn(
        session,
        conversation,
        turn,
        customer,
        account,
        understood,
        text,
        channel,
        address_index,
        clock,
    )
    if conversation.state == ConversationState.handed_over and understood.intent != "vulnerable":
        service.acted(session, turn, "with_a_person")
        return Answer(
            conversation.id, understood.intent, "with_a_person", None, conversation.state, None
        )
    outcome = _act(work)
    service.acted(session, turn, outcome.action)
    if outcome.state == ConversationState.handed_over:
        _hand_over(work, outcome.reason or "asked")
    elif outcome.state is not None:
        service.move(session, conversation, outcome.state, actor=ACTOR, clock=clock)
    said = None
    if outcome.template is not None:
        said = _answer(work, outcome, voice, shown_in)
    return Answer(
        conversation.id,
        understood.intent,
        outcome.action,
        outcome.template,
        conversation.state,
        said,
        outcome.promise_days,
    )


def _act(work: _Turn) -> _Outcome:
    intent = work.understood.intent
    if intent not in ALWAYS_ACTED and work.understood.confidence < LOW_CONFIDENCE:
        return _Outcome("handed_over", "assistant_handover", None, _HANDED, "unsure")
    if intent == "other":
        return _misunderstood(work)
    handler = HANDLERS.get(intent)
    if handler is None:
        return _misunderstood(work)
    outcome = handler(work)
    if outcome.action != "asked_again":
        service.understood(work.session, work.conversation)
    return outcome


_HANDED = ConversationState.handed_over


def _misunderstood(work: _Turn) -> _Outcome:
    if service.misunderstood(work.session, work.conversation) >= MISUNDERSTANDINGS:
        return _Outcome("handed_over", "assistant_handover", None, _HANDED, "misunderstood")
    return _Outcome("asked_again", "assistant_not_understood")


def _ask(work: _Turn, template: str) -> _Outcome:
    """What is missing, asked for; asking counts as not understood, so it never loops."""
    if service.misunderstood(work.session, work.conversation) >= MISUNDERSTANDINGS:
        return _Outcome("handed_over", "assistant_handover", None, _HANDED, "misunderstood")
    return _Outcome("asked_again", template)


def _monthly_budget(understood: Understanding, instalments: re.Match[str] | None) -> int | None:
    """The monthly amount said, unless the amount understood is only the number of instalments
    ("分3期" read as ¥3)."""
    amount = understood.amount_minor
    if amount is None or amount <= 0:
        return None
    if instalments is not None and amount == int(instalments.group(1)) * 100:
        return None
    return amount


def _promise(work: _Turn) -> _Outcome:
    u = work.understood
    if u.date is None:
        return _ask(work, "assistant_ask_date")
    amount = u.amount_minor
    if amount is None:
        pos = arrangement_offers.position(work.session, work.account, clock=work.clock)
        amount = pos.overdue or pos.owed
    try:
        made = arrangement_flows.promise(
            work.session,
            work.account,
            amount_minor=amount,
            on=u.date,
            made_by=ACTOR,
            channel=work.channel,
            clock=work.clock,
        )
    except RecoupError:  # not offered now, or outside its bounds: what is, offered instead
        return _not_offered(work)
    return _Outcome(f"promise:{made.id}", "assistant_promise", made.id, ConversationState.resolved)


def _arrangement(work: _Turn) -> _Outcome:
    if work.channel != "chat":  # the identity step is on the pay link's pages
        return _Outcome("sent_link", "assistant_arrange_link", None, ConversationState.resolved)
    kind = work.understood.intent
    bounds = arrangement_offers.offered(work.session, work.account, clock=work.clock)
    offer = bounds.get("plan" if kind == "payment_plan" else "extension")
    if offer is None:
        return _not_offered(work)
    try:
        if kind == "payment_plan":
            said = INSTALMENTS.search(work.text)
            wanted = int(said.group(1)) if said else int(offer["max_instalments"])
            n = min(max(wanted, int(offer["min_instalments"])), int(offer["max_instalments"]))
            budget = _monthly_budget(work.understood, said)
            if budget is None:  # the policy's plans are fitted to what the debtor can afford
                return _ask(work, "assistant_ask_budget")
            made = arrangement_flows.plan(
                work.session,
                work.account,
                instalments=n,
                monthly_budget=budget,
                monthly_income=None,
                made_by=ACTOR,
                channel="chat",
                clock=work.clock,
            )
            template = "assistant_plan_made"
        else:
            made = arrangement_flows.extension(
                work.session,
                work.account,
                days=int(offer["max_days"]),
                made_by=ACTOR,
                channel="chat",
                clock=work.clock,
            )
            template = "assistant_extension_made"
    except RecoupError:
        return _not_offered(work)
    return _Outcome(f"{made.kind}:{made.id}", template, None, ConversationState.resolved)


OFFERED_ALTERNATIVES = "offered_alternatives"


def _not_offered(work: _Turn) -> _Outcome:
    """What the debtor asked for (a plan, more time, a promise past the policy's bounds) is not
    offered: the answer says so and offers what the policy does allow (paying now by the link, a
    promise within the promise offer's days when there is one, a person), and the conversation
    stays with the assistant. Asking again for what is not offered hands over, as a person would
    take it up then; so do a request for a person and two misunderstandings, as anywhere."""
    earlier = [
        t
        for t in service.turns(work.session, work.conversation.id)
        if t.direction == "in" and t.id != work.turn.id and t.action == OFFERED_ALTERNATIVES
    ]
    if earlier:
        return _Outcome("not_offered", "assistant_handover", None, _HANDED, "not_offered")
    return _Outcome(
        OFFERED_ALTERNATIVES, "assistant_alternatives", None, promise_days=_promise_days(work)
    )


def _promise_days(work: _Turn) -> int:
    """How many days ahead the policy lets this account promise to pay now (0: no promise)."""
    try:
        bounds = arrangement_offers.offered_bounds(
            work.session, work.account, "promise", work.clock
        )
    except RecoupError:  # none offered, or an arrangement already in place
        return 0
    return int(bounds["max_days"])


def _case(work: _Turn) -> _Outcome:
    kind = CASE_KINDS[work.understood.intent]
    case = case_flows.open_case(
        work.session,
        work.customer.id,
        kind=kind,
        reason=_reason(kind, work.text),
        text=work.text[: case_flows.MAX_TEXT],
        account_ref=None,
        opened_by=ACTOR,
        channel=work.channel,
        clock=work.clock,
    )
    return _Outcome(f"case:{case.id}", "assistant_case_received", None, ConversationState.resolved)


def _reason(kind: str, text: str) -> str:
    lowered = text.lower()
    for reason, words in REASON_WORDS.get(kind, ()):
        if any(w in lowered for w in words):
            return reason
    return "other"


def _vulnerable(work: _Turn) -> _Outcome:
    """Everything paused (a hardship case over every open account) and a person at once."""
    case = case_flows.open_case(
        work.session,
        work.customer.id,
        kind="hardship",
        reason="other",
        text=work.text[: case_flows.MAX_TEXT],
        account_ref=None,
        opened_by=ACTOR,
        channel=work.channel,
        clock=work.clock,
    )
    return _Outcome(f"case:{case.id}", "assistant_vulnerable", None, _HANDED, "vulnerable")


def _stop(work: _Turn) -> _Outcome:
    """The channel written on opted out (an e-mail: that address, as its RFC 8058 link does; no
    answer follows by a channel just opted out of); from the chat, SMS and calls."""
    if work.channel == "email":
        contact_flows.opt_out_customer(
            work.session,
            work.customer.id,
            channel="email",
            address_index=work.address_index,
            source=ACTOR,
            evidence=f"conversation {work.conversation.id} turn {work.turn.id}",
            clock=work.clock,
        )
        return _Outcome("opted_out", None, None, ConversationState.closed)
    channels = ("sms",) if work.channel == "sms" else ("sms", "call")
    for channel in channels:
        contact_flows.opt_out_customer(
            work.session,
            work.customer.id,
            channel=channel,
            address_index=work.address_index if work.channel == "sms" else None,
            source=ACTOR,
            evidence=f"conversation {work.conversation.id} turn {work.turn.id}",
            clock=work.clock,
        )
    if work.channel == "sms":  # the one confirmation an opt-out earns, as for STOP, in the
        # language the request was written in unless the debtor chose one (`_reply_language`)
        own = language_for(work.customer.preferred_language, work.customer.jurisdiction)
        contact_flows.confirm_opt_out(
            work.session, work.customer.id, work.clock.now(), language=_reply_language(work, own)
        )
        return _Outcome("opted_out", None, None, ConversationState.closed)
    return _Outcome("opted_out", "assistant_stopped", None, ConversationState.closed)


def _wrong_person(work: _Turn) -> _Outcome:
    """Nothing more to this number (or e-mail address), and no answer: it is not the debtor's."""
    if work.channel == "email":
        contact_flows.opt_out_customer(
            work.session,
            work.customer.id,
            channel="email",
            address_index=work.address_index,
            source="wrong_number",
            evidence=f"conversation {work.conversation.id} turn {work.turn.id}",
            clock=work.clock,
        )
        return _Outcome("wrong_number", None, None, ConversationState.closed)
    if work.channel != "sms":
        return _Outcome("handed_over", "assistant_handover", None, _HANDED, "wrong_person")
    for channel in ("sms", "call"):
        contact_flows.opt_out_customer(
            work.session,
            work.customer.id,
            channel=channel,
            address_index=work.address_index,
            source="wrong_number",
            evidence=f"conversation {work.conversation.id} turn {work.turn.id}",
            clock=work.clock,
        )
    return _Outcome("wrong_number", None, None, ConversationState.closed)


def _talk(work: _Turn) -> _Outcome:
    return _Outcome("handed_over", "assistant_handover", None, _HANDED, "asked")


def _pay_now(work: _Turn) -> _Outcome:
    return _Outcome("sent_link", "assistant_pay_link", None, ConversationState.resolved)


def _balance(work: _Turn) -> _Outcome:
    return _Outcome("told_balance", "assistant_balance", None, ConversationState.resolved)


def _already_paid(work: _Turn) -> _Outcome:
    since = work.clock.now().date() - PAID_LOOKBACK
    if service.payments_since(work.session, work.account.id, since):
        return _Outcome("payment_seen", "assistant_already_paid", None, ConversationState.resolved)
    _task(work, priority=HANDOVER_PRIORITY)
    return _Outcome("payment_unseen", "assistant_already_paid", None, ConversationState.resolved)


HANDLERS: dict[str, Callable[[_Turn], _Outcome]] = {
    "promise_to_pay": _promise,
    "payment_plan": _arrangement,
    "extension": _arrangement,
    "dispute": _case,
    "hardship": _case,
    "complaint": _case,
    "vulnerable": _vulnerable,
    "stop": _stop,
    "wrong_person": _wrong_person,
    "talk_to_human": _talk,
    "pay_now": _pay_now,
    "balance_question": _balance,
    "already_paid": _already_paid,
}


def _task(work: _Turn, *, priority: float) -> None:
    now = work.clock.now()
    agents_service.open_tasks(
        work.session,
        [
            {
                "account_id": work.account.id,
                "as_of_date": now.date(),
                "queue": HANDOVER_QUEUE,
                "priority": priority,
                "source": "conversation",
                "subject_id": work.conversation.id,
                "created_at": now,
            }
        ],
    )


def _hand_over(work: _Turn, reason: str) -> None:
    _task(work, priority=URGENT if reason == "vulnerable" else HANDOVER_PRIORITY)
    service.move(
        work.session,
        work.conversation,
        ConversationState.handed_over,
        actor=ACTOR,
        clock=work.clock,
        reason=reason,
    )


def _answer(
    work: _Turn, outcome: _Outcome, voice: Voice, shown_in: tuple[str, str, bool] | None
) -> str:
    """The answer: through the outbox (SMS), or shown on the page (chat); kept as a turn."""
    assert outcome.template is not None
    if shown_in is None:
        own = language_for(work.customer.preferred_language, work.customer.jurisdiction)
        other = _reply_language(work, own)
        contact = contact_service.assistant_answer(
            work.session,
            account_id=work.account.id,
            customer_id=work.customer.id,
            template=outcome.template,
            subject=outcome.subject or work.turn.id,
            detail=outcome.promise_days,
            # an e-mail is answered by e-mail (the dispatcher's guard still asks the opt-outs)
            channel="email" if work.channel == "email" else None,
            clock=work.clock,
            language=other,
        )
        language = other or own
        # The link itself is signed when the dispatcher sends the message; the turn keeps the
        # mark in its place and the contact that carries it (`links_of` tells the staff).
        link = PAY_LINK_MARK
        carrier = contact.id
        channel = contact.channel
    else:
        page, link, chosen = shown_in
        language = page if chosen else _reply_language(work, page) or page
        channel = "in_app"
        carrier = None
    try:
        text = contact_service.render_answer(
            work.session,
            template=outcome.template,
            channel=channel,
            language=language,
            variables=_facts(work, voice, link, outcome.subject, outcome.promise_days),
            jurisdiction=work.customer.jurisdiction,
            creditor_name=voice.creditor_name,
        )
    except RecoupError as exc:  # an approved text the rules now refuse: withheld, never shown
        # (by SMS the dispatcher's own check blocks it); what was done stays done.
        text = f"[{outcome.template} withheld: {exc.message}]"
    service.add_turn(
        work.session,
        work.conversation,
        direction="out",
        text=text,
        actor=ACTOR,
        clock=work.clock,
        entities={"pay_link_contact": carrier} if carrier and PAY_LINK_MARK in text else None,
        action=outcome.template,
    )
    return text


# The answers' template language of each language a message is read in.
TEMPLATE_LANGUAGE = {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW", "en": "en"}
CHINESE_SCRIPT_REGIONS = {"TW": "zh-TW", "HK": "zh-TW", "MO": "zh-TW"}


def _reply_language(work: _Turn, own: str) -> str | None:
    """The language to answer in when it is not `own` (the customer's, or the chat page's): the
    one the debtor wrote in, as a person answers in the language they were addressed in, unless
    the debtor chose a language in their contact preferences (`language_chosen_at`) or the
    message says too little to tell (`written_language`). Chinese in characters both scripts
    share keeps a Chinese `own`; else the script of the customer's region."""
    if work.customer.language_chosen_at is not None:
        return None
    written = written_language(work.text)
    if written is None:
        return None
    if written == "zh":
        if own in ("zh-CN", "zh-TW"):
            return None
        return CHINESE_SCRIPT_REGIONS.get(work.customer.jurisdiction, "zh-CN")
    language = TEMPLATE_LANGUAGE[written]
    return None if language == own else language


def _facts(
    work: _Turn, voice: Voice, link: str, promise_id: int | None, promise_days: int | None
) -> dict[str, Any]:
    """What the answer's template may say, from the ledger as it stands (as the dispatcher
    computes them when it sends)."""
    pos = arrangement_offers.position(work.session, work.account, clock=work.clock)
    due = contact_repository.next_due(work.session, [work.account.id]).get(
        work.account.id, (pos.today, pos.owed)
    )
    promised = contact_repository.promised(work.session, [promise_id] if promise_id else [])
    amount, day = promised.get(promise_id or 0, (0, pos.today))
    return {
        "creditor_name": voice.creditor_name,
        "support_phone": voice.support_phone,
        "currency": work.account.currency,
        "amount_minor": due[1],
        "due_date": due[0],
        "overdue_minor": pos.overdue,
        "pay_link": link,
        "promised_minor": amount,
        "promised_date": day,
        "promise_days": promise_days or 0,
    }


# What an answer sent through the outbox keeps where its pay link goes: the link is signed when
# the message leaves, so the turn names the contact that carries it (`pay_link_contact`).
PAY_LINK_MARK = "{pay_link}"
# Before the mark, the turn kept these words (a conversation of an older database).
_OLD_MARK = re.compile(r"\[pay link of contact (\d+)\]")


@dataclass(frozen=True)
class PayLink:
    """A pay link the assistant sent, as the staff read it: the contact that carried it, where
    that contact stands, when the debtor first opened it (the portal's `portal.opened`), and the
    latest payment started from it (`succeeded`, `declined`, `created`...; None: none)."""

    contact_id: int
    channel: str | None
    status: str | None
    opened_at: dt.datetime | None
    payment: str | None


@dataclass(frozen=True)
class Handed:
    """A conversation a person has, with its turns (the words decrypted for the reader) and,
    per turn that sent a pay link, its words around the link (`parts`) and the link (`links`)."""

    conversation: Conversation
    turns: list[ConversationTurn]
    parts: dict[int, list[str]] = field(default_factory=dict)
    links: dict[int, PayLink] = field(default_factory=dict)


def _handed(session: Session, conversation: Conversation, turns: list[ConversationTurn]) -> Handed:
    """The conversation with its pay links told: which contact carried each, whether the debtor
    opened it and paid through it."""
    parts: dict[int, list[str]] = {}
    carriers: dict[int, int] = {}
    for turn in turns:
        if turn.direction != "out":
            continue
        kept = (turn.entities or {}).get("pay_link_contact")
        if isinstance(kept, int) and PAY_LINK_MARK in turn.text:
            parts[turn.id], carriers[turn.id] = turn.text.split(PAY_LINK_MARK), kept
            continue
        old = _OLD_MARK.search(turn.text)
        if old is not None:
            parts[turn.id] = [turn.text[: old.start()], turn.text[old.end() :]]
            carriers[turn.id] = int(old.group(1))
    if not carriers:
        return Handed(conversation, turns)
    opened: dict[int, dt.datetime] = {}
    for entry in audit_service.of_subject(
        session,
        action="portal.opened",
        subject_type="customer",
        subject_id=conversation.customer_id,
    ):
        contact_id = (entry.details or {}).get("contact_id")
        if isinstance(contact_id, int):
            opened.setdefault(contact_id, entry.at)
    paid = {
        i.contact_id: i.status
        for i in arrangement_service.intents_of_contacts(session, sorted(set(carriers.values())))
    }
    links = {}
    for turn_id, contact_id in carriers.items():
        contact = contact_service.contact(session, contact_id)
        links[turn_id] = PayLink(
            contact_id=contact_id,
            channel=contact.channel if contact else None,
            status=contact.status if contact else None,
            opened_at=opened.get(contact_id),
            payment=paid.get(contact_id),
        )
    return Handed(conversation, turns, parts, links)


def handed_over(session: Session, *, actor: str, clock: Clock, limit: int = 50) -> list[Handed]:
    """The conversations waiting for a person, the longest waiting first; reading them is a
    view of the debtors' words, noted in the data-access log."""
    out = [
        _handed(session, c, list(service.turns(session, c.id)))
        for c in service.in_state(session, ConversationState.handed_over, limit=limit)
    ]
    _viewed(session, {h.conversation.customer_id for h in out}, actor=actor, clock=clock)
    return out


def view(session: Session, conversation_id: int, *, actor: str, clock: Clock) -> Handed:
    conversation = service.get(session, conversation_id)
    _viewed(session, {conversation.customer_id}, actor=actor, clock=clock)
    return _handed(session, conversation, list(service.turns(session, conversation_id)))


def _viewed(session: Session, customers: set[int], *, actor: str, clock: Clock) -> None:
    for customer_id in sorted(customers):
        audit_service.log_access(
            session,
            customer_id=customer_id,
            actor=actor,
            kind="view",
            fields=["conversation_turns.text"],
            reason="conversations handed over",
            clock=clock,
        )


def resolve(session: Session, conversation_id: int, *, by: str, clock: Clock) -> Conversation:
    """A person has dealt with a handed-over conversation: it is resolved, and its tasks close."""
    conversation = service.get(session, conversation_id)
    if conversation.state != ConversationState.handed_over:
        raise NotHandedOver(f"conversation {conversation_id} is {conversation.state}")
    service.move(session, conversation, ConversationState.resolved, actor=by, clock=clock)
    if conversation.account_id is not None:
        tasks = [
            t.id
            for t in agents_service.of_account(session, conversation.account_id)
            if t.source == "conversation" and t.subject_id == conversation.id and t.status == "open"
        ]
        agents_service.done(session, tasks, now=clock.now(), actor=by)
    return conversation


class NotHandedOver(Conflict):
    code = "conversation_not_handed_over"
    description = "Only a conversation a person has can be resolved by one"
