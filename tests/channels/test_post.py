"""The print-and-post adapter against a local provider on a real socket: letters rendered to PDF
and batched, each caller answered for its own letter, errors mapped as for every channel."""

from __future__ import annotations

import base64
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from recoup.channels.base import Accepted, ChannelError, Outgoing, PermanentError, TransientError
from recoup.channels.post import PostAdapter
from tests.channels.letters import cn_letter, us_letter
from tests.channels.providers import FakePost, Response

pytestmark = pytest.mark.pure

KEY = "post-api-key-0123456789"


def outgoing(key: str, name: str = "Alex Doe", china: bool = False) -> Outgoing:
    letter = cn_letter(name) if china else us_letter(name)
    return Outgoing(
        idempotency_key=key,
        channel="letter",
        to=letter.recipient.name,
        body=letter.body,
        subject=letter.subject,
        language=letter.language,
        metadata={"contact_id": key},
        letter=letter,
    )


@pytest.fixture
def post() -> Iterator[FakePost]:
    with FakePost(KEY) as fake:
        yield fake


def adapter(post: FakePost, **options: object) -> PostAdapter:
    settings: dict[str, object] = {
        "url": post.url,
        "api_key": KEY,
        "batch_size": 8,
        "linger_seconds": 0.5,
        "concurrency": 8,
        "timeout": 5,
    }
    return PostAdapter(**(settings | options))  # type: ignore[arg-type]


def send_all(a: PostAdapter, messages: list[Outgoing]) -> dict[str, Accepted | ChannelError]:
    """As the dispatcher does: one thread per message, each waiting for its own answer."""

    def one(m: Outgoing) -> Accepted | ChannelError:
        try:
            return a.send(m)
        except ChannelError as exc:
            return exc

    with ThreadPoolExecutor(len(messages)) as pool:
        return dict(
            zip([m.idempotency_key for m in messages], pool.map(one, messages), strict=True)
        )


class TestBatches:
    def test_letters_sent_together_go_in_one_batch(self, post: FakePost) -> None:
        # Rendering takes a while under load: the batch waits (up to a generous linger) until
        # all four have joined, then leaves at once because it is full.
        a = adapter(post, batch_size=4, linger_seconds=30)
        try:
            results = send_all(a, [outgoing(f"letter-{i}") for i in range(4)])
        finally:
            a.close()
        assert all(isinstance(r, Accepted) for r in results.values())
        assert len(post.batches) == 1
        assert sorted(post.batches[0]) == sorted(results)
        ids = {r.provider_id for r in results.values() if isinstance(r, Accepted)}
        assert len(ids) == 4

    def test_a_batch_is_cut_at_its_size(self, post: FakePost) -> None:
        a = adapter(post, batch_size=2, linger_seconds=30)
        try:
            results = send_all(a, [outgoing(f"letter-{i}") for i in range(4)])
        finally:
            a.close()
        assert all(isinstance(r, Accepted) for r in results.values())
        assert sorted(len(b) for b in post.batches) == [2, 2]

    def test_what_the_provider_prints_is_the_letter_as_a_pdf(
        self, post: FakePost, tmp_path: Path
    ) -> None:
        a = adapter(post, linger_seconds=0)
        try:
            a.send(outgoing("letter-cn", "张伟", china=True))
        finally:
            a.close()
        pdf = tmp_path / "printed.pdf"
        pdf.write_bytes(post.printed["letter-cn"])
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True)
        assert "逾期还款提醒函" in text.stdout.decode()
        body = post.requests_to("/v1/letter-batches")[0].json()
        assert body["letters"][0]["recipient"]["name"] == "张伟"
        assert base64.b64decode(body["letters"][0]["pdf_base64"]) == post.printed["letter-cn"]


class TestErrors:
    def test_one_undeliverable_letter_fails_alone_without_its_address_in_the_reason(
        self, post: FakePost
    ) -> None:
        post.undeliverable.add("Sam Roe")
        a = adapter(post)
        try:
            results = send_all(
                a, [outgoing("ok-1"), outgoing("bad-1", "Sam Roe"), outgoing("ok-2")]
            )
        finally:
            a.close()
        assert isinstance(results["ok-1"], Accepted)
        assert isinstance(results["ok-2"], Accepted)
        bad = results["bad-1"]
        assert isinstance(bad, PermanentError)
        assert "address_undeliverable" in bad.reason
        assert "Sam Roe" not in bad.reason
        assert "1 Main St" not in bad.reason

    def test_a_failed_batch_is_a_transient_error_for_each_letter(self, post: FakePost) -> None:
        post.script(
            Response(503, {"error": {"code": "busy", "message": "try later"}}, {"Retry-After": "7"})
        )
        a = adapter(post)
        try:
            results = send_all(a, [outgoing("a"), outgoing("b")])
        finally:
            a.close()
        assert all(isinstance(r, TransientError) for r in results.values())
        assert {r.retry_after for r in results.values() if isinstance(r, TransientError)} == {7.0}

    def test_a_letter_sent_again_is_printed_once(self, post: FakePost) -> None:
        a = adapter(post, linger_seconds=0)
        try:
            first = a.send(outgoing("letter-1"))
            again = a.send(outgoing("letter-1"))
            found = a.lookup("letter-1")
            nothing = a.lookup("letter-never")
        finally:
            a.close()
        assert first.provider_id == again.provider_id
        assert list(post.printed) == ["letter-1"]
        assert found is not None
        assert found.provider_id == first.provider_id
        assert nothing is None

    def test_a_letter_missing_a_required_field_never_reaches_the_provider(
        self, post: FakePost
    ) -> None:
        a = adapter(post, linger_seconds=0)
        bad = outgoing("letter-x")
        assert bad.letter is not None
        fields = {**bad.letter.fields, "current_amount": ""}
        broken = Outgoing(
            **{
                **bad.__dict__,
                "letter": bad.letter.__class__(**{**bad.letter.__dict__, "fields": fields}),
            }
        )
        try:
            with pytest.raises(PermanentError, match="current_amount"):
                a.send(broken)
        finally:
            a.close()
        assert post.requests == []

    def test_a_wrong_key_is_permanent(self, post: FakePost) -> None:
        a = adapter(post, api_key="wrong", linger_seconds=0)
        try:
            with pytest.raises(PermanentError, match="401"):
                a.send(outgoing("letter-1"))
        finally:
            a.close()

    def test_settings_are_checked_at_start(self, post: FakePost) -> None:
        with pytest.raises(ValueError, match="mail_class"):
            adapter(post, mail_class="pigeon")
        with pytest.raises(ValueError, match="RECOUP_LETTER_FONT"):
            adapter(post, font="/nonexistent/font.ttf")


def test_callers_never_wait_forever_when_a_leader_fails(post: FakePost) -> None:
    """A batch whose post raises still answers every caller (threads finish)."""
    post.delay = 0
    a = adapter(post, url="http://127.0.0.1:9", timeout=1)  # nothing listens on port 9
    done = threading.Event()
    try:
        results = send_all(a, [outgoing("a"), outgoing("b"), outgoing("c")])
        done.set()
    finally:
        a.close()
    assert done.is_set()
    assert all(isinstance(r, TransientError) for r in results.values())
