"""Autopay mandates: set up at the wallet (the debtor approves there), read back from it, and
cancelled by the debtor or staff; and the rules the active policy sets for retries.

Invariants: an account has at most one open (pending or active) mandate; a mandate is seen and
cancelled only by its own customer (another customer's answers exactly as a missing one); a
mandate is cancelled here only once the wallet has cancelled it, so the wallet never collects
under a mandate Recoup shows as cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.autopay import repository as repo
from recoup.channels import ChannelError
from recoup.channels.wallet import WalletPaymentsAdapter
from recoup.kit.clock import Clock
from recoup.kit.errors import Conflict, NotFound, RecoupError
from recoup.kit.logging import get_logger
from recoup.ledger.repository import AccountRepository, CustomerRepository
from recoup.models import OPEN_MANDATE_STATES, AutopayCollection, AutopayMandate, MandateState
from recoup.strategy import service as strategy_service
from recoup.strategy.policy import AutopayRules

log = get_logger(__name__)


class AutopayWalletUnavailable(RecoupError):
    status_code = 502
    code = "wallet_unavailable"
    description = "The wallet did not answer; try again"


class MandateExists(Conflict):
    code = "mandate_exists"
    description = "The account already has autopay set up or waiting for approval"


class MandateClosed(Conflict):
    code = "mandate_closed"
    description = "The mandate is already cancelled or failed"


def start(
    session: Session,
    customer_id: int,
    account_ref: str,
    *,
    wallet: WalletPaymentsAdapter,
    return_url: str,
    by: str,
    clock: Clock,
) -> AutopayMandate:
    """A pending mandate for one of the customer's open accounts, asked at the wallet with the
    mandate's idempotency key; the debtor approves it at its `redirect_url`."""
    found = AccountRepository(session).open_of_customer(customer_id, external_ref=account_ref)
    if not found:  # another customer's account answers exactly as a missing one
        raise NotFound("no such account", details={"reason": "no_account"})
    account = found[0]
    held = repo.open_mandate(session, account.id)
    if held is not None:
        held = refresh(session, held, wallet=wallet, clock=clock)
    if held is not None and held.state == MandateState.active:
        raise MandateExists(
            "autopay is already on for this account", details={"reason": "autopay_exists"}
        )
    if held is not None and held.state == MandateState.pending and held.redirect_url:
        return held  # asked before and not yet approved: to the wallet's page again
    customer = CustomerRepository(session).get(customer_id)
    assert customer is not None
    now = clock.now()
    if held is not None and held.state == MandateState.pending:
        mandate = held  # the wallet never answered: asked again with the same key
    else:
        mandate = repo.add_mandate(
            session,
            customer_id=customer_id,
            account_id=account.id,
            state=MandateState.pending,
            created_by=by,
            created_at=now,
            updated_at=now,
        )
    try:
        made = wallet.create_mandate(
            reference=mandate.reference,
            user=customer.external_ref,
            account=account.external_ref,
            return_url=return_url,
            idempotency_key=f"recoup-mandate-{mandate.id}",
        )
    except ChannelError as exc:
        raise AutopayWalletUnavailable(
            f"the wallet did not take the mandate: {exc.reason}",
            details={"reason": "wallet_unavailable"},
        ) from exc
    repo.set_mandate(
        session,
        mandate,
        at=now,
        state=made.status,
        wallet_ref=made.wallet_id,
        redirect_url=made.redirect_url,
        by="wallet",
    )
    _audit(session, mandate, "autopay.mandate_requested", by, clock)
    return mandate


def refresh(
    session: Session, mandate: AutopayMandate, *, wallet: WalletPaymentsAdapter, clock: Clock
) -> AutopayMandate:
    """A pending mandate's state as the wallet has it now (approved or declined there); the
    mandate as it was when the wallet does not answer."""
    if mandate.state != MandateState.pending or mandate.wallet_ref is None:
        return mandate
    try:
        held = wallet.mandate(mandate.wallet_ref)
    except ChannelError as exc:
        log.warning("autopay.mandate_unread", mandate_id=mandate.id, reason=exc.reason)
        return mandate
    if held.status != mandate.state:
        repo.set_mandate(session, mandate, at=clock.now(), state=held.status, by="wallet")
        _audit(session, mandate, f"autopay.mandate_{held.status}", "wallet", clock)
        strategy_service.redecide(session, mandate.account_id, clock=clock, cause="autopay")
    return mandate


def cancel(
    session: Session,
    customer_id: int,
    mandate_id: int,
    *,
    wallet: WalletPaymentsAdapter,
    by: str,
    clock: Clock,
) -> AutopayMandate:
    """Cancel at the wallet first, then here: a cancellation the wallet did not take is refused
    (502) rather than shown as done."""
    mandate = repo.mandate(session, mandate_id)
    if mandate is None or mandate.customer_id != customer_id:
        raise NotFound("no such mandate", details={"reason": "no_mandate"})
    if mandate.state not in OPEN_MANDATE_STATES:
        raise MandateClosed("this autopay is already off", details={"reason": "autopay_off"})
    if mandate.wallet_ref is not None:
        try:
            wallet.cancel_mandate(
                mandate.wallet_ref, idempotency_key=f"recoup-mandate-{mandate.id}-cancel"
            )
        except ChannelError as exc:
            raise AutopayWalletUnavailable(
                f"the wallet did not cancel the mandate: {exc.reason}",
                details={"reason": "wallet_unavailable"},
            ) from exc
    repo.set_mandate(session, mandate, at=clock.now(), state=MandateState.cancelled, by=by)
    _audit(session, mandate, "autopay.mandate_cancelled", by, clock)
    strategy_service.redecide(session, mandate.account_id, clock=clock, cause="autopay")
    return mandate


def mandates_of(
    session: Session, customer_id: int, *, limit: int = 100, offset: int = 0
) -> Sequence[AutopayMandate]:
    return repo.mandates_of(session, customer_id, limit=limit, offset=offset)


def rules(session: Session) -> AutopayRules:
    """The active policy's retry limits; none (no retry) without an active policy."""
    try:
        return strategy_service.active_policy(session)[1].autopay
    except strategy_service.NoActivePolicy:
        return AutopayRules()


def _audit(session: Session, mandate: AutopayMandate, action: str, by: str, clock: Clock) -> None:
    audit_service.record(
        session,
        actor=by,
        action=action,
        subject_type="account",
        subject_id=mandate.account_id,
        clock=clock,
        details={"mandate": mandate.reference, "state": mandate.state},
    )


def collections_of(
    session: Session, mandate_ids: Sequence[int], *, limit: int = 50
) -> Sequence[AutopayCollection]:
    """The latest collections under these mandates, newest first."""
    return repo.collections_of(session, mandate_ids, limit=limit)
