"""Which provider serves each channel, per deployment: a YAML file (`RECOUP_CHANNELS_FILE`).

```yaml
email:
  provider: smtp
  host: smtp.example.com
  port: 587
  security: starttls
  sender: "Recoup Wallet <billing@example.com>"
  username: billing@example.com
  password_env: SMTP_PASSWORD          # secrets come from the environment: `<key>_env`
  inbound_secret_env: EMAIL_INBOUND_SECRET   # signs the provider's inbound webhook (replies)
sms:
  provider: twilio
  account_sid: AC0123456789abcdef0123456789abcdef
  auth_token_env: TWILIO_AUTH_TOKEN
  previous_auth_token_env: TWILIO_PREVIOUS_AUTH_TOKEN   # still accepted on webhooks (rotation)
  from_number: "+12025550100"
  status_callback: https://recoup.example.com/v1/channels/twilio/status
push:
  provider: fcm
  service_account_file: /etc/recoup/fcm-service-account.json   # `<key>_file`: read as JSON
letter:
  provider: post
  url: https://print.example.com
  api_key_env: POST_API_KEY
  callback_url: https://recoup.example.com/v1/channels/post/status
  callback_secret_env: POST_CALLBACK_SECRET   # verifies its status callbacks (recoup.kit.signing)
  delivery: at-least-once               # the provider prints a reference once
wechat:
  provider: wechat
  app_id: wx0123456789abcdef
  app_secret_env: WECHAT_APP_SECRET
  template_id: TPL_overdue_1
whatsapp:
  provider: whatsapp
  phone_number_id: "106540352242922"
  access_token_env: WHATSAPP_TOKEN
  app_secret_env: WHATSAPP_APP_SECRET   # verifies status webhooks (X-Hub-Signature-256)
  verify_token_env: WHATSAPP_VERIFY_TOKEN  # answers Meta's subscription check (GET, hub.*)
  template: account_notice
```

Providers: `smtp` (email), `twilio` and `http-sms` (sms), `fcm` and `wallet-push` (push),
`click-to-call` (dial: an agent's call bridged by the telephony provider), `post` (letter: a
print-and-post provider), `wechat` (a WeChat service account's template messages), `whatsapp`
(WhatsApp Business Cloud API), `spool` (any channel: files in a directory). Every other key is the adapter's own keyword argument (see
its class), except `delivery` (below). Without a file, every channel goes to the spool directory:
development and the demo. Production refuses that (`no_file_in_production`): there the spool serves
a channel only when the file names it (`provider: spool`) or `RECOUP_CHANNELS_SPOOL` is set.

`delivery` is what a crash between the provider's accept and our record may cost, per channel:
- `at-most-once` (the default): the contact is left `unknown`, never sent again blindly; the
  frequency caps count it as sent, and reconciliation asks the provider, where its API can say by
  our key (`lookup`), before any resend. A duplicate dunning message is the harm this avoids.
- `at-least-once`: the contact is sent again with the same idempotency key. Allowed only where the
  provider recognises the key (`AT_LEAST_ONCE`: the SMTP `Message-ID`, which the recipient's mail
  system uses to recognise the copy; the generic gateways' `Idempotency-Key` header, when the
  gateway de-duplicates by it, which the deployment vouches for by setting this). Twilio, FCM and
  the spool do not de-duplicate: `at-least-once` is refused for them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from recoup.channels.base import Adapter
from recoup.channels.email import SmtpAdapter
from recoup.channels.post import PostAdapter
from recoup.channels.push import FcmAdapter, WebhookPushAdapter
from recoup.channels.sms import HttpSmsAdapter, TwilioAdapter
from recoup.channels.spool import SpoolAdapter
from recoup.channels.voice import ClickToCallAdapter
from recoup.channels.wechat import WeChatAdapter
from recoup.channels.whatsapp import WhatsAppAdapter

SPOOLED = ("sms", "email", "push")
AT_MOST_ONCE = "at-most-once"
AT_LEAST_ONCE = "at-least-once"
# Providers that can recognise a message sent again under the same idempotency key.
DEDUPLICATING = ("smtp", "http-sms", "wallet-push", "click-to-call", "post", "wechat")
PROVIDERS: dict[str, tuple[Callable[..., Adapter], tuple[str, ...]]] = {
    "smtp": (SmtpAdapter, ("email",)),
    "twilio": (TwilioAdapter, ("sms",)),
    "http-sms": (HttpSmsAdapter, ("sms",)),
    "fcm": (FcmAdapter, ("push",)),
    "wallet-push": (WebhookPushAdapter, ("push",)),
    "click-to-call": (ClickToCallAdapter, ("dial",)),
    "post": (PostAdapter, ("letter",)),
    "wechat": (WeChatAdapter, ("wechat",)),
    "whatsapp": (WhatsAppAdapter, ("whatsapp",)),
}


class ChannelConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Channels:
    factories: dict[str, Callable[[], Adapter]]
    twilio_tokens: list[str] = field(default_factory=list)  # verify Twilio's webhooks
    sms_secrets: list[str] = field(default_factory=list)  # verify the generic gateway's webhooks
    call_secrets: list[str] = field(default_factory=list)  # verify telephony's call results
    whatsapp_secrets: list[str] = field(default_factory=list)  # verify Meta's status webhooks
    whatsapp_verify_token: str | None = None  # Meta's subscription check (GET, hub.verify_token)
    email_secrets: list[str] = field(default_factory=list)  # verify inbound e-mail webhooks
    post_secrets: list[str] = field(default_factory=list)  # verify the printer's letter statuses
    at_least_once: frozenset[str] = frozenset()  # channels resent after a crash (see the module)

    def adapters(self) -> dict[str, Adapter]:
        return {channel: make() for channel, make in self.factories.items()}


def load_channels(
    path: Path | None, *, spool_dir: Path, production: bool = False, spool: bool = False
) -> Channels:
    """The deployment's channels. In `production`, no file is refused unless `spool` (the setting
    `RECOUP_CHANNELS_SPOOL`) asks for the spool by name: messages marked sent that nobody received
    are the harm."""
    if path is None:
        if production and not spool:
            # Short enough for one line of a terminal; the spool's setting is in the docs.
            raise ChannelConfigError(
                "no channels configured in production: set RECOUP_CHANNELS_FILE"
            )
        return Channels({c: _spool(spool_dir, c) for c in SPOOLED})
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ChannelConfigError(f"{path}: cannot read channel configuration: {exc}") from exc
    if not isinstance(raw, dict):
        raise ChannelConfigError(f"{path}: expected a mapping of channel to provider")
    factories: dict[str, Callable[[], Adapter]] = {}
    tokens: list[str] = []
    sms_secrets: list[str] = []
    call_secrets: list[str] = []
    whatsapp_secrets: list[str] = []
    whatsapp_verify_token: str | None = None
    email_secrets: list[str] = []
    post_secrets: list[str] = []
    at_least_once: set[str] = set()
    for channel, block in raw.items():
        where = f"{path}: {channel}"
        if not isinstance(block, dict) or "provider" not in block:
            raise ChannelConfigError(f"{where}: give a `provider` and its settings")
        options = _resolve(dict(block), where)
        provider = options.pop("provider")
        delivery = options.pop("delivery", AT_MOST_ONCE)
        if delivery not in (AT_MOST_ONCE, AT_LEAST_ONCE):
            raise ChannelConfigError(
                f"{where}: delivery {delivery!r} is not {AT_MOST_ONCE} or {AT_LEAST_ONCE}"
            )
        if delivery == AT_LEAST_ONCE:
            if provider not in DEDUPLICATING:
                raise ChannelConfigError(
                    f"{where}: {provider} does not de-duplicate by our idempotency key, so "
                    f"{AT_LEAST_ONCE} would send duplicates after a crash: use {AT_MOST_ONCE}"
                )
            at_least_once.add(str(channel))
        if channel == "email":
            # The e-mail provider's inbound webhook (replies to our e-mails, posted as signed JSON):
            # its secret and, while it rotates, the previous one. Not the adapter's.
            email_secrets = [
                t
                for t in (
                    options.pop("inbound_secret", None),
                    options.pop("previous_inbound_secret", None),
                )
                if t
            ]
        if provider == "spool":
            directory = Path(options.pop("directory", spool_dir))
            factories[channel] = _spool(directory, channel)
            continue
        if provider not in PROVIDERS:
            raise ChannelConfigError(
                f"{where}: unknown provider {provider!r} (known: spool, {', '.join(PROVIDERS)})"
            )
        cls, serves = PROVIDERS[provider]
        if channel not in serves:
            raise ChannelConfigError(f"{where}: {provider} serves {', '.join(serves)}")
        if provider == "twilio":
            tokens = [
                t
                for t in (options.get("auth_token"), options.pop("previous_auth_token", None))
                if t
            ]
        if provider in ("http-sms", "click-to-call"):
            secret = options.get("secret")
            secrets = [secret] if isinstance(secret, str) else list(secret or [])
            if provider == "http-sms":
                sms_secrets = secrets
            else:
                call_secrets = secrets
        if provider == "post":
            # The printer's status callbacks (signed JSON): its secret and, while it rotates, the
            # previous one. Not the adapter's.
            post_secrets = [
                t
                for t in (
                    options.pop("callback_secret", None),
                    options.pop("previous_callback_secret", None),
                )
                if t
            ]
            if options.get("callback_url") and not post_secrets:
                raise ChannelConfigError(
                    f"{where}: callback_url needs callback_secret, which verifies its status callbacks"
                )
        if provider == "whatsapp":
            whatsapp_secrets = [
                t
                for t in (options.get("app_secret"), options.pop("previous_app_secret", None))
                if t
            ]
            token = options.pop("verify_token", None)
            if token is not None and (not isinstance(token, str) or not 8 <= len(token) <= 256):
                raise ChannelConfigError(f"{where}: verify_token is text of 8 to 256 characters")
            whatsapp_verify_token = token
        try:
            cls(**options).close()  # fail now, at start, on a wrong or missing setting
        except (TypeError, ValueError) as exc:
            raise ChannelConfigError(f"{where}: {exc}") from exc
        factories[channel] = _factory(cls, options)
    return Channels(
        factories,
        twilio_tokens=tokens,
        sms_secrets=sms_secrets,
        call_secrets=call_secrets,
        whatsapp_secrets=whatsapp_secrets,
        whatsapp_verify_token=whatsapp_verify_token,
        email_secrets=email_secrets,
        post_secrets=post_secrets,
        at_least_once=frozenset(at_least_once),
    )


def _spool(directory: Path, channel: str) -> Callable[[], Adapter]:
    return lambda: SpoolAdapter(directory, channel)


def _factory(cls: Callable[..., Adapter], options: Mapping[str, Any]) -> Callable[[], Adapter]:
    return lambda: cls(**options)


def _resolve(options: dict[str, Any], where: str) -> dict[str, Any]:
    """`<key>_env: NAME` reads the environment, `<key>_file: PATH` reads a JSON file."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key.endswith("_env"):
            name = key.removesuffix("_env")
            if str(value) not in os.environ:
                raise ChannelConfigError(
                    f"{where}: environment variable {value} ({name}) is not set"
                )
            out[name] = os.environ[str(value)]
        elif key.endswith("_file"):
            name = key.removesuffix("_file")
            try:
                out[name] = json.loads(Path(str(value)).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ChannelConfigError(
                    f"{where}: cannot read {name} from {value}: {exc}"
                ) from exc
        else:
            out[key] = value
    return out
