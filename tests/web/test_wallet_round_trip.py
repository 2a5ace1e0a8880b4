"""Pay now, the whole path on real HTTP: the portal (opened from a pay link) asks the wallet's
payment API (the sandbox wallet, served by the same `recoup serve`) for a payment, the debtor
approves or declines on the wallet's page, the wallet calls the signed webhook back, and the
portal shows the result. Nothing counts until the webhook confirms it."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.web.conftest import Served, debtor

# A served process with a database of its own: run once, on the SQLite pass.
pytestmark = pytest.mark.pure


def pay(client: httpx.Client, path: str, amount: str) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    return client.post(
        f"{path}/pay",
        data={"csrf": csrf.group(1), "account": "bnpl-portal", "amount": amount},
    )


def test_pay_now_through_the_sandbox_wallet(served: Served) -> None:
    base, headers, _ = served
    _, path = debtor(base, headers)
    with httpx.Client(base_url=base, follow_redirects=False, timeout=20) as client:
        started = pay(client, path, "200.00")
        assert started.status_code == 303, started.text
        wallet_page = started.headers["location"]
        assert wallet_page.startswith(f"{base}/sandbox/wallet/pay/")
        page = client.get(wallet_page)
        assert "¥200.00" in page.text
        before = client.get(path).text
        assert "¥500.00" in before  # nothing counts before the wallet confirms
        approved = client.post(wallet_page.removeprefix(base) + "/approve")
        assert approved.status_code == 303
        assert approved.headers["location"] == f"{base}{path}"
        after = client.get(path).text
    assert "谢谢！我们已收到您的还款。" in after
    assert "¥300.00" in after  # what remains of the bill


def test_a_declined_payment_changes_nothing(served: Served) -> None:
    base, headers, _ = served
    _, path = debtor(base, headers)
    with httpx.Client(base_url=base, follow_redirects=False, timeout=20) as client:
        started = pay(client, path, "500")
        declined = client.post(started.headers["location"].removeprefix(base) + "/decline")
        assert declined.status_code == 303
        after = client.get(path).text
    assert "这次还款没有完成" in after
    assert "¥500.00" in after


def test_bad_amounts_and_forged_forms_are_refused_on_the_page(
    served: Served,
) -> None:
    base, headers, _ = served
    _, path = debtor(base, headers)
    with httpx.Client(base_url=base, follow_redirects=False, timeout=20) as client:
        too_much = pay(client, path, "600")
        assert too_much.status_code == 422
        assert "还款金额需大于 0，且不超过 ¥500.00" in too_much.text  # the page's language
        nonsense = pay(client, path, "五百")
        assert nonsense.status_code == 422
        assert "请填写正确的金额" in nonsense.text
        forged = client.post(
            f"{path}/pay", data={"csrf": "0" * 32, "account": "bnpl-portal", "amount": "1"}
        )
        assert forged.status_code == 403
        someone_else = client.post(
            f"{path}/pay",
            data={
                "csrf": re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(path).text).group(
                    1
                ),  # type: ignore[union-attr]
                "account": "not-mine",
                "amount": "1",
            },
        )
        assert someone_else.status_code == 404
