"""REST: the SMS providers' and the e-mail provider's inbound replies, which the assistant
answers. An SMS is recorded and opt-out words are handled by `contact.flows.receive_sms` exactly as
before; any other reply from a known number then goes to `assistant.flows.on_sms` instead of the
agents' `replies` queue. Signatures and forms are verified by contact's dependencies (Twilio's and
the gateway's). An e-mail reply is signed JSON like the gateway's, with the e-mail provider's
inbound secret (`inbound_secret` in the channels file's `email` block)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import TypeAdapter

from recoup.assistant import flows
from recoup.assistant.schemas import EmailAccepted, InboundEmail
from recoup.channels.config import load_channels
from recoup.config import Settings
from recoup.contact import schemas
from recoup.contact.endpoints import (
    FORM,
    TWILIO_RESPONSES,
    GatewaySms,
    TwilioForm,
    twilio_form_schema,
)
from recoup.http.deps import ClockDep, SessionDep, SettingsDep
from recoup.http.openapi import request_body
from recoup.http.webhooks import WEBHOOK_RESPONSES, SignedWebhook, json_event
from recoup.kit.errors import ValidationFailed

router = APIRouter(prefix="/v1", tags=["contact"])


def _email_secrets(settings: Settings) -> list[bytes]:
    channels = load_channels(settings.channels_file, spool_dir=settings.spool_dir)
    return [s.encode() for s in channels.email_secrets]


# The e-mail provider's inbound webhook: signed like the wallet's webhooks (a fresh signature, seen
# once) with the provider's inbound secret; no secret configured, every delivery is refused.
SignedEmail = Annotated[
    InboundEmail,
    Depends(
        SignedWebhook(
            "email-inbound",
            _email_secrets,
            json_event(TypeAdapter(InboundEmail), "invalid inbound e-mail"),
        )
    ),
]


def voice(settings: Settings) -> flows.Voice:
    return flows.Voice(creditor_name=settings.creditor_name, support_phone=settings.support_phone)


@router.post(
    "/channels/twilio/inbound",
    summary="Inbound SMS from Twilio",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **TWILIO_RESPONSES},
    openapi_extra=request_body(
        schema=twilio_form_schema("MessageSid", "From", "Body", "FromCountry"), media_type=FORM
    ),
)
def twilio_inbound(
    form: TwilioForm, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """A reply to one of our SMS, signed by Twilio (`X-Twilio-Signature`). `STOP`, `退订`, `TD`
    and the like opt the number out at once; other replies go to the assistant, which acts and
    answers through the outbox or hands over to a person. Answers empty TwiML."""
    if not form.get("MessageSid") or not form.get("From"):
        raise ValidationFailed("MessageSid and From are required")
    flows.receive_sms(
        session,
        provider="twilio",
        provider_id=form["MessageSid"],
        from_number=form["From"],
        body=form.get("Body", ""),
        region=form.get("FromCountry") or "CN",
        clock=clock,
        voice=voice(settings),
    )
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?><Response/>', media_type="application/xml"
    )


@router.post(
    "/channels/sms/inbound",
    response_model=schemas.InboundResult,
    summary="Inbound SMS (gateway)",
    responses=WEBHOOK_RESPONSES,
    openapi_extra=request_body(schemas.InboundSms),
)
def gateway_inbound(
    data: GatewaySms, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> schemas.InboundResult:
    """A reply from the generic SMS gateway, `{"id", "from", "body", "country"}`, signed like the
    wallet's webhooks with the gateway's secret. Handled as Twilio's: opt-out words opt the number
    out at once, other replies go to the assistant; the same id twice is handled once."""
    received, _ = flows.receive_sms(
        session,
        provider="http-sms",
        provider_id=data.id,
        from_number=data.sender,
        body=data.body,
        region=data.country,
        clock=clock,
        voice=voice(settings),
    )
    return schemas.InboundResult(
        message_id=received.message_id, intent=received.intent, duplicate=received.duplicate
    )


@router.post(
    "/channels/email/inbound",
    response_model=EmailAccepted,
    status_code=202,
    summary="Inbound e-mail reply",
    responses=WEBHOOK_RESPONSES,
    openapi_extra=request_body(InboundEmail),
)
def email_inbound(
    data: SignedEmail, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> EmailAccepted:
    """A reply to one of our e-mails, `{"from", "to", "subject", "text", "message_id",
    "in_reply_to"}`, signed with the e-mail provider's inbound secret. The sender's address is
    canonicalised and looked up; a known sender's reply (the quoted thread cut off) goes to the
    assistant, which acts and answers by e-mail through the outbox or hands over to a person. The
    answer is 202 and the same for every sender, known or not: nothing says whether an address is
    on file. The same Message-ID twice is handled once."""
    flows.receive_email(
        session,
        provider="email",
        message_id=data.message_id,
        from_address=data.sender,
        subject=data.subject,
        text=data.text,
        clock=clock,
        voice=voice(settings),
    )
    return EmailAccepted(accepted=True)
