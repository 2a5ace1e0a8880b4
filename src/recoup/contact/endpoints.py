"""REST: provider callbacks (replies, delivery receipts), the in-app inbox, agents' calls, the
explanation of a contact, and message templates (write, check, preview, submit, approve by a
second person). One-click unsubscribe is a page: `recoup.web.unsubscribe`."""

from __future__ import annotations

import hmac
import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import TypeAdapter

from recoup.channels.config import Channels, load_channels
from recoup.channels.sms import verify_twilio_signature
from recoup.channels.voice import ClickToCallAdapter
from recoup.channels.whatsapp import Status, statuses, verify_signature
from recoup.compliance import deployment_guard
from recoup.config import Settings, get_settings
from recoup.contact import flows, replies, schemas
from recoup.contact import service as contact_service
from recoup.contact.dispatch import DispatchConfig
from recoup.contact.templates import LANGUAGES, MessageTemplate, Rendered
from recoup.http.deps import ClockDep, Limit, RowId, SessionDep, SettingsDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.http.openapi import link, links, request_body
from recoup.http.webhooks import WEBHOOK_RESPONSES, SignedWebhook, WebhookBody, json_event
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.errors import (
    BadSignature,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from recoup.ledger import service as ledger_service

P = Permission
# Providers' callbacks answer for their signatures, staff and integrations for their permissions.
callbacks = APIRouter(prefix="/v1", tags=["contact"])
api = APIRouter(prefix="/v1", tags=["contact"], responses=AUTHENTICATED)
TWILIO_STATUS = {"delivered": "delivered", "undelivered": "bounced", "failed": "bounced"}


def _channels(settings: Settings) -> Channels:
    return load_channels(settings.channels_file, spool_dir=settings.spool_dir)


def _form(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as exc:
        raise ValidationFailed("the form is not UTF-8") from exc


def _sms_secrets(settings: Settings) -> list[bytes]:
    return [s.encode() for s in _channels(settings).sms_secrets]


def _call_secrets(settings: Settings) -> list[bytes]:
    return [s.encode() for s in _channels(settings).call_secrets]


def _post_secrets(settings: Settings) -> list[bytes]:
    return [s.encode() for s in _channels(settings).post_secrets]


# The SMS gateway's replies and telephony's call results: signed like the wallet's webhooks (a fresh
# signature, seen once), each with its provider's secret, read as the provider's event.
GatewaySms = Annotated[
    schemas.InboundSms,
    Depends(
        SignedWebhook(
            "sms-gateway",
            _sms_secrets,
            json_event(TypeAdapter(schemas.InboundSms), "invalid inbound message"),
        )
    ),
]
TelephonyCallStatus = Annotated[
    schemas.CallStatus,
    Depends(
        SignedWebhook(
            "click-to-call",
            _call_secrets,
            json_event(TypeAdapter(schemas.CallStatus), "invalid call status"),
        )
    ),
]

PrinterLetterStatus = Annotated[
    schemas.LetterStatus,
    Depends(
        SignedWebhook(
            "post",
            _post_secrets,
            json_event(TypeAdapter(schemas.LetterStatus), "invalid letter status"),
        )
    ),
]


# The fields of Twilio's forms we read, with the longest each may be (Twilio's ids are 34
# characters; what we store has room for 128): a longer one is a 422, never a database error.
TWILIO_FIELDS = {
    "MessageSid": 128,
    "From": 32,
    "Body": 1600,
    "FromCountry": 2,
    "MessageStatus": 32,
    "ErrorCode": 16,
}


def twilio_form(
    request: Request,
    body: WebhookBody,
    settings: SettingsDep,
    x_twilio_signature: Annotated[str | None, Header()] = None,
) -> dict[str, str]:
    """Dependency: Twilio's form, signed by Twilio (`X-Twilio-Signature` over our public URL and the
    form) with one of the configured auth tokens."""
    form = _form(body)
    tokens = _channels(settings).twilio_tokens
    url = settings.public_url.rstrip("/") + request.url.path
    if not tokens or not verify_twilio_signature(url, form, x_twilio_signature, tokens):
        raise BadSignature("X-Twilio-Signature does not sign this request")
    for name, limit in TWILIO_FIELDS.items():
        if len(form.get(name, "")) > limit:
            raise ValidationFailed(f"{name} is longer than {limit} characters")
    return form


TwilioForm = Annotated[dict[str, str], Depends(twilio_form)]
TWILIO_RESPONSES = responses(BadSignature, PayloadTooLarge, ValidationFailed)
FORM = "application/x-www-form-urlencoded"


def twilio_form_schema(*fields: str) -> dict[str, object]:
    """Twilio's form as documented here: the fields we read, all strings (Twilio sends more)."""
    return {
        "type": "object",
        "properties": {
            name: {"type": "string", "maxLength": TWILIO_FIELDS[name]} for name in fields
        },
        "required": list(fields[:2]),
    }


WHATSAPP_OBJECT = "whatsapp_business_account"


def whatsapp_statuses(
    body: WebhookBody,
    settings: SettingsDep,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> list[Status]:
    """Dependency: the statuses of a WhatsApp webhook, signed by Meta (`X-Hub-Signature-256`, the
    HMAC-SHA256 of the raw body with the app secret; the previous secret too while it rotates)."""
    secrets = _channels(settings).whatsapp_secrets
    if not secrets or not verify_signature(body, x_hub_signature_256, secrets):
        raise BadSignature("X-Hub-Signature-256 does not sign this body")
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the body is not JSON") from exc
    if (
        not isinstance(doc, dict)
        or doc.get("object") != WHATSAPP_OBJECT
        or not isinstance(doc.get("entry"), list)
    ):
        raise ValidationFailed(
            f"not a WhatsApp webhook: expected object {WHATSAPP_OBJECT} and entry"
        )
    return statuses(body)


WhatsAppStatuses = Annotated[list[Status], Depends(whatsapp_statuses)]


# Meta's challenge is a number today; anything printable up to this length is echoed as plain text.
_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{1,128}")


@callbacks.get(
    "/channels/whatsapp/status",
    summary="WhatsApp webhook subscription check",
    response_class=PlainTextResponse,
    responses=responses(Forbidden, ValidationFailed),
)
def whatsapp_subscription(
    settings: SettingsDep,
    mode: Annotated[str, Query(alias="hub.mode", max_length=32)],
    verify_token: Annotated[str, Query(alias="hub.verify_token", max_length=256)],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=128)],
) -> PlainTextResponse:
    """Meta's check when the webhook is subscribed in the app's dashboard: `hub.mode=subscribe`
    with the verify token configured for the channel (`verify_token` in the channels file) is
    answered with `hub.challenge`; anything else is refused (403)."""
    expected = _channels(settings).whatsapp_verify_token
    if (
        expected is None
        or mode != "subscribe"
        or not hmac.compare_digest(verify_token.encode(), expected.encode())
    ):
        raise Forbidden("not a subscription check with this webhook's verify token")
    if not _CHALLENGE.fullmatch(challenge):
        raise ValidationFailed(
            "hub.challenge: 1 to 128 letters, digits or ._~-",
            details=[{"field": "hub.challenge", "problem": "not a challenge"}],
        )
    return PlainTextResponse(challenge)


@callbacks.post(
    "/channels/whatsapp/status",
    status_code=204,
    summary="WhatsApp message statuses",
    responses=responses(BadSignature, PayloadTooLarge, ValidationFailed),
    openapi_extra=request_body(
        schema={
            "type": "object",
            "required": ["object", "entry"],
            "properties": {
                "object": {"type": "string", "enum": [WHATSAPP_OBJECT]},
                "entry": {"type": "array", "items": {"type": "object"}},
            },
        }
    ),
)
def whatsapp_status(found: WhatsAppStatuses, session: SessionDep, clock: ClockDep) -> Response:
    """Meta's webhook for messages we sent on WhatsApp: `delivered`/`read` mark the contact
    delivered, `failed` bounces it with the error code, and a failure with 131050 (the person
    stopped the business's messages) is recorded as their opt-out of WhatsApp."""
    flows.whatsapp_statuses(session, found, clock=clock)
    return Response(status_code=204)


@callbacks.post(
    "/channels/twilio/status",
    status_code=204,
    summary="Twilio delivery status",
    responses=TWILIO_RESPONSES,
    openapi_extra=request_body(
        schema=twilio_form_schema("MessageSid", "MessageStatus", "ErrorCode"), media_type=FORM
    ),
)
def twilio_status(form: TwilioForm, session: SessionDep, clock: ClockDep) -> Response:
    """Twilio's status callback for a message we sent: `delivered`, or `undelivered`/`failed`
    (the contact becomes `bounced` with Twilio's error code). Other statuses change nothing."""
    status = TWILIO_STATUS.get(form.get("MessageStatus", ""))
    if status is not None and form.get("MessageSid"):
        code = form.get("ErrorCode")
        flows.record_status(
            session,
            provider="twilio",
            provider_id=form["MessageSid"],
            status=status,
            error=f"twilio error {code}" if code else None,
            clock=clock,
        )
    return Response(status_code=204)


@api.get(
    "/customers/{customer_id}/inbox",
    response_model=list[schemas.InboxMessage],
    summary="The customer's in-app messages",
    responses=links(
        200,
        Read=link(
            "post",
            "/v1/inbox/{message_id}/read",
            "Mark the newest read",
            message_id="$response.body#/0/id",
        ),
    ),
)
def inbox(
    customer_id: RowId,
    session: SessionDep,
    limit: Limit = 50,
    _: Principal = require(P.contacts_inbox),
) -> list[schemas.InboxMessage]:
    """What the wallet's app shows in its inbox, newest first (in-app messages delivered)."""
    return [
        schemas.InboxMessage.model_validate(m)
        for m in contact_service.inbox(session, customer_id, limit=limit)
    ]


@api.post(
    "/inbox/{message_id}/read",
    response_model=schemas.InboxMessage,
    summary="Mark an in-app message read",
    responses=responses(NotFound),
)
def mark_read(
    message_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.contacts_inbox),
) -> schemas.InboxMessage:
    """The read receipt from the wallet's app; the first read counts, later ones change nothing."""
    return schemas.InboxMessage.model_validate(
        contact_service.mark_read(session, message_id, clock=clock)
    )


@api.post(
    "/agent-tasks/{task_id}/dial",
    status_code=201,
    response_model=schemas.DialResult,
    summary="Call the debtor of a task (click-to-call)",
    responses={
        **responses(NotFound),
        **links(
            201,
            Explain=link(
                "get",
                "/v1/contacts/{contact_id}/explanation",
                "Why it may or may not ring",
                contact_id="$response.body#/contact_id",
            ),
            Result=link(
                "post",
                "/v1/contacts/{contact_id}/call-result",
                "The agent's wrap-up",
                contact_id="$response.body#/contact_id",
            ),
        ),
    },
)
def dial(
    task_id: RowId,
    data: schemas.DialRequest,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Principal = require(P.calls_place),
) -> schemas.DialResult:
    """The telephony provider rings the agent, then bridges to the debtor, whose number the agent
    never sees. Checked against the guard and the account at once and again when the worker
    rings: `blocked` with the reasons when it may not happen now."""
    contact = flows.dial(
        session,
        task_id,
        agent=data.agent,
        actor=principal.actor,
        clock=clock,
        config=DispatchConfig.from_settings(settings, "api"),
        guard=deployment_guard(get_settings().compliance_house_file),
        channels=list(_channels(settings).factories),
    )
    return schemas.DialResult(
        contact_id=contact.id, status=contact.status, reasons=[str(r) for r in contact.reasons]
    )


@api.post(
    "/contacts/{contact_id}/call-result",
    response_model=schemas.CallOutcome,
    summary="Record what became of a call (the agent's wrap-up)",
    responses=responses(NotFound, Conflict),
)
def call_result(
    contact_id: RowId,
    data: schemas.CallResultIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.calls_place),
) -> schemas.CallOutcome:
    """After the call: `no_answer`, `voicemail`, `connected` (someone answered) or
    `conversation` (a talk with the debtor). Caps that count only some results (China's three
    effective calls a day, Reg F's conversations) count the call by it from now on. A result below
    the one on record (telephony said `conversation`) changes nothing; 409 for a call that was
    not placed."""
    contact = flows.record_call_result(
        session, data.result, contact_id=contact_id, actor=principal.actor, clock=clock
    )
    return schemas.CallOutcome(
        contact_id=contact.id, status=contact.status, result=contact.result or data.result
    )


@callbacks.post(
    "/channels/click-to-call/status",
    status_code=204,
    summary="Call result (telephony)",
    responses={**WEBHOOK_RESPONSES, **responses(NotFound)},
    openapi_extra=request_body(schemas.CallStatus),
)
def click_to_call_status(
    data: TelephonyCallStatus, session: SessionDep, clock: ClockDep
) -> Response:
    """The telephony provider's report on a call it bridged, `{"id", "result"}` with the call id
    it answered with, signed with the click-to-call secret as Recoup signs its requests. A call
    it does not know is a 404, so the provider retries until the call is on record."""
    flows.record_call_result(
        session,
        data.result,
        provider=ClickToCallAdapter.name,
        provider_id=data.id,
        actor="callback:click-to-call",
        clock=clock,
    )
    return Response(status_code=204)


@callbacks.post(
    "/channels/post/status",
    status_code=204,
    summary="Letter status (print and post)",
    responses={**WEBHOOK_RESPONSES, **responses(NotFound)},
    openapi_extra=request_body(schemas.LetterStatus),
)
def post_status(data: PrinterLetterStatus, session: SessionDep, clock: ClockDep) -> Response:
    """The print-and-post provider's report on a letter it accepted, `{"id", "reference",
    "status", "at"}` with the letter id it answered with, signed with the letter channel's
    `callback_secret` as Recoup signs its requests: `delivered` marks the letter delivered,
    `returned` (to sender) bounces it with that reason, `printed` and `mailed` change nothing (the
    letter is `sent`, handed to the printer). A letter it does not know is a 404, so the provider
    retries until our record of the letter's id has landed."""
    flows.record_letter_status(session, provider_id=data.id, status=data.status, clock=clock)
    return Response(status_code=204)


@api.get(
    "/contacts/{contact_id}/explanation",
    response_model=dict[str, Any],
    summary="Why a contact happened (or did not)",
    responses=responses(NotFound),
)
def explain(
    contact_id: RowId, session: SessionDep, _: Principal = require(P.contacts_read)
) -> dict[str, Any]:
    """The decision that planned it, the guard at plan and send time, what was sent (masked),
    and every status change since."""
    return contact_service.explain(session, contact_id)


@api.post(
    "/contacts/{contact_id}/retry",
    response_model=schemas.Retried,
    summary="Put a dead letter back in the outbox",
    responses=responses(NotFound, contact_service.NotADeadLetter),
)
def retry(
    contact_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.contacts_retry),
) -> schemas.Retried:
    """After its cause is fixed (a provider's outage, a wrong address corrected): the contact is
    queued with fresh attempts and the dispatcher checks it again (the debt, the pauses, the guard)
    before sending. Only a dead letter (`failed`) can be retried."""
    contact = contact_service.retry(session, contact_id, actor=principal.actor, clock=clock)
    return schemas.Retried(id=contact.id, status=contact.status)


@api.get(
    "/customers/{customer_id}/preferences",
    response_model=schemas.PreferencesIo,
    summary="A debtor's contact preferences",
    responses=responses(NotFound),
)
def get_preferences(
    customer_id: RowId, session: SessionDep, _: Principal = require(P.customers_read)
) -> schemas.PreferencesIo:
    customer = ledger_service.get_customer(session, customer_id)
    held = flows.preferences_of(session, customer.id)
    return schemas.PreferencesIo(
        channels=sorted(held.allowed),
        quiet_from=held.quiet_from,
        quiet_to=held.quiet_to,
        preferred_from=held.preferred_from,
        preferred_to=held.preferred_to,
        language=language if (language := customer.preferred_language) in LANGUAGES else None,
    )


@api.put(
    "/customers/{customer_id}/preferences",
    response_model=schemas.PreferencesIo,
    summary="Set a debtor's contact preferences",
    responses=responses(NotFound),
)
def put_preferences(
    customer_id: RowId,
    data: schemas.PreferencesIo,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.preferences_write),
) -> schemas.PreferencesIo:
    """What the debtor said, in the wallet's app or to an agent: unsent contacts on a channel no
    longer allowed are cancelled at once, and the accounts are re-decided."""
    customer = ledger_service.get_customer(session, customer_id)
    flows.set_preferences(
        session,
        customer.id,
        language=data.language,
        channels=set(data.channels),
        quiet=flows.window(data.quiet_from, data.quiet_to, "quiet hours"),
        preferred=flows.window(data.preferred_from, data.preferred_to, "preferred window"),
        source=principal.actor,
        clock=clock,
    )
    return get_preferences(customer.id, session, principal)


# -- message templates ------------------------------------------------------------------------------


def _template(data: schemas.TemplateDraftIn) -> MessageTemplate:
    return MessageTemplate(
        data.name, data.channel, data.language, data.tone, data.body, data.subject or None
    )


def _version_out(version: Any) -> schemas.TemplateVersionOut:
    return schemas.TemplateVersionOut.model_validate(version, from_attributes=True)


@api.get(
    "/templates",
    response_model=list[schemas.TemplateVersionOut],
    summary="Message templates and their versions",
)
def list_templates(
    session: SessionDep, _: Principal = require(P.templates_write)
) -> list[schemas.TemplateVersionOut]:
    """Every version of every template (name, channel, language, tone), oldest first, with its
    status: draft, rejected (with the guard's reasons), submitted, approved, retired."""
    return [_version_out(v) for v in contact_service.all_versions(session)]


@api.post(
    "/templates",
    status_code=201,
    response_model=schemas.TemplateVersionOut,
    summary="Save a template version",
    responses=responses(ValidationFailed),
)
def save_template(
    data: schemas.TemplateDraftIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.templates_write),
) -> schemas.TemplateVersionOut:
    """A new version of the template: `draft`, or `rejected` with the guard's reasons when a
    jurisdiction's content rules refuse it (it cannot be submitted). Not used until submitted and
    approved by another person. A text that does not render is a 422."""
    version = contact_service.save(session, _template(data), author=principal.actor, clock=clock)
    return _version_out(version)


def _check_out(
    rendered: Rendered, verdicts: dict[str, list[dict[str, str]]]
) -> schemas.TemplateCheckOut:
    return schemas.TemplateCheckOut(
        subject=rendered.subject,
        body=rendered.body,
        sms_segments=rendered.sms.segments if rendered.sms else None,
        verdicts=[
            schemas.JurisdictionVerdict(
                jurisdiction=j,
                allowed=not problems,
                problems=[schemas.TemplateProblemOut(**p) for p in problems],
            )
            for j, problems in verdicts.items()
        ],
    )


@api.post(
    "/templates/check",
    response_model=schemas.TemplateCheckOut,
    summary="The guard's content verdict on a text, per jurisdiction",
    responses=responses(ValidationFailed),
)
def check_template(
    data: schemas.TemplateDraftIn, _: Principal = require(P.templates_write)
) -> schemas.TemplateCheckOut:
    """What saving would say, without saving: the text rendered with sample data, and for every
    jurisdiction a template may be used in, whether its content rules allow it and why not."""
    rendered, verdicts = contact_service.check_draft(_template(data))
    return _check_out(rendered, verdicts)


@api.post(
    "/accounts/{account_id}/template-preview",
    response_model=schemas.TemplatePreviewOut,
    summary="A template's text as one account's debtor would read it (masked)",
    responses=responses(NotFound, ValidationFailed),
)
def preview_template(
    account_id: RowId,
    data: schemas.TemplateDraftIn,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: Principal = require(P.templates_write),
) -> schemas.TemplatePreviewOut:
    """Rendered with the account's own amounts, due date and days past due; the debtor's name
    masked, the pay link's token masked. Nothing is sent or saved; the look is on the customer's
    data-access log (a masked view)."""
    rendered = contact_service.preview(
        session,
        _template(data),
        account_id,
        creditor_name=settings.creditor_name,
        support_phone=settings.support_phone,
        actor=principal.actor,
        clock=clock,
        public_url=settings.public_url,
    )
    return schemas.TemplatePreviewOut(
        account_id=account_id,
        subject=rendered.subject,
        body=rendered.body,
        sms_segments=rendered.sms.segments if rendered.sms else None,
    )


@api.post(
    "/templates/{version_id}/submit",
    response_model=schemas.TemplateVersionOut,
    summary="Submit a template version for approval",
    responses=responses(NotFound, Conflict),
)
def submit_template(
    version_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.templates_write),
) -> schemas.TemplateVersionOut:
    """A draft put forward for a second person's approval; 409 for any other status (a rejected
    version is fixed by saving a new one)."""
    return _version_out(
        contact_service.submit(session, version_id, actor=principal.actor, clock=clock)
    )


@api.post(
    "/templates/{version_id}/approve",
    response_model=schemas.TemplateVersionOut,
    summary="Approve another person's template version",
    responses=responses(NotFound, Conflict, contact_service.OwnTemplate),
)
def approve_template(
    version_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.templates_approve),
) -> schemas.TemplateVersionOut:
    """Four eyes: a submitted version, approved by someone other than its author (403 for the
    author). It becomes the version the dispatcher uses; the template's earlier approved version
    is retired. 409 when it was not submitted."""
    return _version_out(
        contact_service.approve(session, version_id, actor=principal.actor, clock=clock)
    )


router = APIRouter()
router.include_router(callbacks)
router.include_router(api)


replies_api = APIRouter(prefix="/v1", tags=["replies"], responses=AUTHENTICATED)


@replies_api.get("/replies", response_model=list[schemas.ReplyTask], summary="The replies inbox")
def replies_inbox(
    session: SessionDep,
    clock: ClockDep,
    limit: Limit = 100,
    principal: Principal = require(P.replies_handle),
) -> list[schemas.ReplyTask]:
    """The debtors' free-text replies waiting for a person (the `replies` queue's open tasks),
    newest first. The bodies are personal data: each customer shown is noted in the data-access
    log."""
    return [
        schemas.ReplyTask(
            task_id=r.task.id,
            account_id=r.task.account_id,
            customer_id=r.customer_id,
            created_at=r.task.created_at,
            messages=[
                schemas.InboundReply(
                    id=m.id, channel=m.channel, body=m.body, received_at=m.received_at
                )
                for m in r.messages
            ],
        )
        for r in replies.inbox(session, actor=principal.actor, clock=clock, limit=limit)
    ]


@replies_api.post(
    "/replies/{task_id}",
    response_model=schemas.ReplyHandled,
    summary="Handle a reply",
    responses=responses(NotFound, Conflict, ValidationFailed),
)
def handle_reply(
    task_id: RowId,
    data: schemas.ReplyHandleIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.replies_handle),
) -> schemas.ReplyHandled:
    """Make a case of it, record the consent it gives, opt its address out, or mark it done; the
    task closes."""
    made = replies.handle(
        session,
        task_id,
        data.action,
        by=principal.actor,
        clock=clock,
        kind=data.kind,
        reason=data.reason,
        expires_at=data.expires_at,
    )
    return schemas.ReplyHandled.model_validate(made)


router.include_router(replies_api)
