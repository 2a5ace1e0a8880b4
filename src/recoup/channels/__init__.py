"""Channel adapters: the only code that talks to providers (SMTP servers, SMS gateways, push
services, click-to-call providers). Each adapter takes an `Outgoing` message and answers `Accepted`
or raises `TransientError` / `PermanentError`; the dispatcher (`recoup.contact`) decides what to do
with the answer. Adapters know nothing of accounts, rules or the database."""

from recoup.channels.base import (
    Accepted,
    Adapter,
    ChannelError,
    Lookup,
    OptedOut,
    Outgoing,
    PermanentError,
    TransientError,
)

__all__ = [
    "Accepted",
    "Adapter",
    "ChannelError",
    "Lookup",
    "OptedOut",
    "Outgoing",
    "PermanentError",
    "TransientError",
]
