"""What every channel adapter takes and answers.

An adapter sends one message and says what the provider said: `Accepted` (with the provider's own
id for the message, which later status callbacks name), `TransientError` (try again later: a
timeout, a 5xx, a 429 with its `Retry-After`) or `PermanentError` (this message will never go: a bad
number, an address that does not exist, a credential the provider refuses). Every call carries the
message's idempotency key; an adapter passes it to the provider in whatever form the provider
understands (a header, a `Message-ID`). Whether the provider then recognises a message retried
after a crash differs: SMTP's `Message-ID` lets the recipient's side recognise the copy, a gateway
may de-duplicate by its `Idempotency-Key` header, but Twilio documents no de-duplication of
messages and FCM has no idempotency at all. What a crash costs per channel is therefore the
channel's delivery policy (`recoup.channels.config`, `recoup.contact.dispatch`), not a promise of
the adapters. An adapter that can ask its provider whether it holds a message by our key offers
`lookup` (`Lookup`): reconciliation asks it before a contact whose outcome is unknown is resent.

Adapters are thread-safe: the dispatcher calls `send` from up to `concurrency` threads at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from recoup.channels.letter import Letter


@dataclass(frozen=True)
class Outgoing:
    idempotency_key: str
    channel: str  # sms, email, push, in_app, call, letter, wechat, whatsapp
    # E.164 number, e-mail address, push token, the wallet's user reference, a WeChat openid, or
    # (letters) the recipient's name: the postal address travels in `letter`
    to: str
    body: str  # plain text
    subject: str | None = None
    html: str | None = None
    language: str = "en"
    sender: str | None = None  # from address / sender id, when the deployment does not fix it
    unsubscribe_url: str | None = None  # one-click opt-out (RFC 8058) for this message
    metadata: dict[str, str] = field(
        default_factory=dict
    )  # contact id, account id: no personal data
    letter: Letter | None = None  # a letter's document: addresses, disclosures (post channel)


@dataclass(frozen=True)
class Accepted:
    provider: str
    provider_id: str | None = None
    delivered: bool = False  # the provider confirmed delivery synchronously (in-app, local sinks)


class ChannelError(Exception):
    """The provider did not take the message. `reason` is safe to store and show: no personal data."""

    transient = False

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TransientError(ChannelError):
    transient = True


class PermanentError(ChannelError):
    pass


class OptedOut(PermanentError):
    """The provider says the person stopped messages on this channel (WeChat 43004: they
    unfollowed the service account; WhatsApp 131050: they stopped the business's messages). The
    dispatcher records an opt-out, as if they had said STOP to us, so nothing more is planned."""


class Adapter(Protocol):
    name: str  # the provider as configured, e.g. "smtp", "twilio", "fcm"
    channel: str
    concurrency: int  # calls in flight at once
    rate_per_second: float | None  # the provider's limit; None if it has none
    # An adapter may also say `inline = True`: it answers at once (no network call), so the
    # dispatcher calls it on its own thread instead of through a pool.

    def send(self, message: Outgoing) -> Accepted: ...

    def close(self) -> None: ...


@runtime_checkable
class Lookup(Protocol):
    """An adapter whose provider can say, by our idempotency key, whether it holds a message:
    `Accepted` (with the provider's id) when it does, None when it does not; `ChannelError` when
    it cannot say now."""

    def lookup(self, idempotency_key: str) -> Accepted | None: ...
