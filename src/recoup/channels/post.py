"""Letters through a print-and-post provider: each letter rendered to PDF, letters batched.

The provider interface (docs/contact.md, "Letters"), JSON over HTTPS, bearer key:

    POST {base}/v1/letter-batches   Idempotency-Key: <batch key>
      {"batch_reference", "mail_class", "callback_url"?,
       "letters": [{"reference", "recipient": {"name", "lines", "city", "region", "postal_code",
                    "country"}, "pdf_base64", "sha256"}]}
      -> 202 {"batch_id", "letters": [{"reference", "id", "status": "accepted"}
                                      | {"reference", "status": "rejected",
                                         "error": {"code", "message"}}]}
    GET  {base}/v1/letters?reference=<our key>  -> 200 {"letters": [{"id", "reference", "status"}]}
    status callbacks: POST {callback_url} {"id", "reference", "status", "at"}, signed as
      recoup.kit.signing describes (X-Recoup-Timestamp, X-Recoup-Signature)

A letter's `reference` is its contact's idempotency key; the provider prints a reference once, and
answers a reference it has seen with its earlier outcome. That makes a resent letter (in any batch)
safe, so the post channel may be `at-least-once`.

Batching: the dispatcher calls `send` from up to `concurrency` threads. The first caller waits up
to `linger_seconds` for others (or for `batch_size` letters), posts them as one batch and hands each
caller its own letter's answer, so the dispatcher's retries and dead letter apply per letter. A
letter's fields and font are checked before it joins a batch: a letter that may not be printed
is a PermanentError of its own and never spoils the batch.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recoup.channels.base import Accepted, ChannelError, Outgoing, PermanentError, TransientError
from recoup.channels.http import ProviderClient, classify, scrub
from recoup.channels.letter import Font, Letter, LetterProblem, find_font, render_pdf

MAIL_CLASSES = ("first_class", "standard")
MAX_PDF_BYTES = 5_000_000  # a letter is a few pages; a bigger file is a rendering fault


@dataclass
class _Slot:
    message: Outgoing
    letter: Letter
    pdf: bytes
    leads: bool = False
    done: bool = False
    outcome: Accepted | ChannelError | None = None


class PostAdapter:
    name = "post"
    channel = "letter"

    def __init__(
        self,
        *,
        url: str,
        api_key: str,
        mail_class: str = "first_class",
        callback_url: str | None = None,
        font: str | None = None,
        batch_size: int = 50,
        linger_seconds: float = 2.0,
        timeout: float = 30.0,
        concurrency: int = 50,
        rate_per_second: float | None = None,
    ) -> None:
        if mail_class not in MAIL_CLASSES:
            raise ValueError(f"mail_class must be one of {', '.join(MAIL_CLASSES)}")
        if not 1 <= batch_size <= 500:
            raise ValueError("batch_size must be between 1 and 500")
        if not 0 <= linger_seconds <= 60:
            raise ValueError("linger_seconds must be between 0 and 60")
        try:
            self.font: Font = find_font(font)
        except LetterProblem as exc:
            raise ValueError(str(exc)) from exc
        self.mail_class = mail_class
        self.callback_url = callback_url
        self.batch_size = batch_size
        self.linger = linger_seconds
        self.concurrency = concurrency
        self.rate_per_second = rate_per_second
        self._client = ProviderClient(
            self.name,
            concurrency=concurrency,
            timeout=timeout,
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        )
        self._cond = threading.Condition()
        self._pending: list[_Slot] = []
        self._leader: _Slot | None = None

    def send(self, message: Outgoing) -> Accepted:
        letter = message.letter
        if letter is None:
            raise PermanentError("post: a letter needs its document (no letter on the message)")
        try:
            pdf = render_pdf(letter, self.font)
        except LetterProblem as exc:
            raise PermanentError(f"post: {exc}") from exc
        if len(pdf) > MAX_PDF_BYTES:
            raise PermanentError(f"post: the letter's PDF is {len(pdf):,} bytes, over the bound")
        slot = _Slot(message, letter, pdf)
        batch = self._join(slot)
        if batch is not None:
            outcomes = self._post(batch)
            with self._cond:
                for s in batch:
                    s.outcome = outcomes[s.message.idempotency_key]
                    s.done = True
                self._cond.notify_all()
        with self._cond:
            while not slot.done:
                self._cond.wait()
        if isinstance(slot.outcome, ChannelError):
            raise slot.outcome
        assert slot.outcome is not None
        return slot.outcome

    def _join(self, slot: _Slot) -> list[_Slot] | None:
        """Wait in line; the batch to post when this caller leads one, None when another does."""
        with self._cond:
            self._pending.append(slot)
            if self._leader is None:
                self._leader, slot.leads = slot, True
            self._cond.notify_all()
            while not slot.done and not slot.leads:
                self._cond.wait()
            if slot.done:
                return None
            deadline = time.monotonic() + self.linger
            while len(self._pending) < self.batch_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = self._pending[: self.batch_size]
            del self._pending[: self.batch_size]
            self._leader = None
            if self._pending:  # those left over wait for the next batch: the first leads it
                self._leader = self._pending[0]
                self._leader.leads = True
                self._cond.notify_all()
            return batch

    def _post(self, batch: Sequence[_Slot]) -> dict[str, Accepted | ChannelError]:
        references = sorted(s.message.idempotency_key for s in batch)
        key = "batch-" + hashlib.sha256("\n".join(references).encode()).hexdigest()[:32]
        payload: dict[str, Any] = {
            "batch_reference": key,
            "mail_class": self.mail_class,
            "letters": [_letter(s) for s in batch],
        }
        if self.callback_url:
            payload["callback_url"] = self.callback_url
        redact = [line for s in batch for line in s.letter.recipient.block()]
        try:
            response = self._client.post(
                "/v1/letter-batches", json=payload, headers={"Idempotency-Key": key}
            )
            classify(response, provider=self.name, redact=redact)
        except ChannelError as exc:  # the whole batch failed: every letter shares the answer
            return {s.message.idempotency_key: exc for s in batch}
        answers = _answers(response.json() if response.content else None)
        out: dict[str, Accepted | ChannelError] = {}
        for s in batch:
            answer = answers.get(s.message.idempotency_key)
            out[s.message.idempotency_key] = _outcome(answer, redact)
        return out

    def lookup(self, idempotency_key: str) -> Accepted | None:
        response = self._client.get("/v1/letters", params={"reference": idempotency_key})
        classify(response, provider=self.name)
        for item in _list(response.json(), "letters"):
            if item.get("reference") == idempotency_key and item.get("status") != "rejected":
                return Accepted(provider=self.name, provider_id=_str(item.get("id")))
        return None

    def close(self) -> None:
        self._client.close()


def _letter(slot: _Slot) -> dict[str, Any]:
    r = slot.letter.recipient
    return {
        "reference": slot.message.idempotency_key,
        "recipient": {
            "name": r.name,
            "lines": list(r.lines),
            "city": r.city,
            "region": r.region,
            "postal_code": r.postal_code,
            "country": r.country,
        },
        "pdf_base64": base64.b64encode(slot.pdf).decode(),
        "sha256": hashlib.sha256(slot.pdf).hexdigest(),
    }


def _answers(body: object) -> dict[str, Mapping[str, Any]]:
    return {
        str(item["reference"]): item for item in _list(body, "letters") if item.get("reference")
    }


def _outcome(answer: Mapping[str, Any] | None, redact: Sequence[str]) -> Accepted | ChannelError:
    if answer is None:
        # Posted, but the answer does not say: the key makes asking again safe.
        return TransientError("post: the batch's answer does not name this letter")
    if answer.get("status") == "accepted":
        return Accepted(provider="post", provider_id=_str(answer.get("id")))
    raw = answer.get("error")
    error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    code = scrub(str(error.get("code") or "rejected"), redact)
    message = scrub(str(error.get("message") or ""), redact)
    return PermanentError(f"post rejected {code}" + (f": {message}" if message else ""))


def _list(body: object, key: str) -> list[Mapping[str, Any]]:
    items = body.get(key) if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _str(value: object) -> str | None:
    return None if value is None else str(value)
