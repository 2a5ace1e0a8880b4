"""REST: customers, accounts, bills and payments. Thin: each endpoint calls one service or flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from recoup.audit import service as audit_service
from recoup.http.deps import ClockDep, Limit, Offset, RowId, SessionDep
from recoup.http.errors import AUTHENTICATED, responses
from recoup.http.idempotency import IDEMPOTENT_ERRORS, body_of, respond
from recoup.http.openapi import link, links
from recoup.identity.auth import require
from recoup.identity.permissions import Permission
from recoup.identity.service import Principal
from recoup.kit.schemas import ListResource
from recoup.ledger import flows, schemas
from recoup.ledger.repository import AccountRepository, CustomerRepository
from recoup.ledger.service import accounts as ledger_accounts
from recoup.ledger.service import billing as ledger_billing
from recoup.ledger.service import customers as ledger_customers
from recoup.ledger.service import payments as ledger_payments
from recoup.ledger.service.errors import (
    AccountNotFound,
    CustomerNotFound,
    DuplicateReference,
    PaymentNotFound,
)
from recoup.models import Payment

P = Permission
router = APIRouter(prefix="/v1", tags=["ledger"], responses=AUTHENTICATED)
RawBody = Annotated[bytes, Depends(body_of)]

# What a client does next with what it made or found (OpenAPI links).
CUSTOMER = "$response.body#/id"
CUSTOMER_LINKS = {
    "GetCustomer": link("get", "/v1/customers/{customer_id}", "The customer", customer_id=CUSTOMER),
    "RevealCustomer": link(
        "post", "/v1/customers/{customer_id}/reveal", "Reveal its data", customer_id=CUSTOMER
    ),
    "DataAccess": link(
        "get", "/v1/customers/{customer_id}/data-access", "Who saw it", customer_id=CUSTOMER
    ),
    "ListAccounts": link("get", "/v1/accounts", "Its accounts", **{"query.customer_id": CUSTOMER}),
    "OpenCase": link("post", "/v1/customers/{customer_id}/cases", "A case", customer_id=CUSTOMER),
    "Cases": link("get", "/v1/customers/{customer_id}/cases", "Its cases", customer_id=CUSTOMER),
    "Preferences": link(
        "put",
        "/v1/customers/{customer_id}/preferences",
        "Set its preferences",
        customer_id=CUSTOMER,
    ),
    "RevokeLinks": link(
        "post",
        "/v1/customers/{customer_id}/pay-links/revoke",
        "Withdraw links",
        customer_id=CUSTOMER,
    ),
}
ACCOUNT = "$response.body#/id"
ACCOUNT_LINKS = {
    "GetAccount": link("get", "/v1/accounts/{account_id}", "The account", account_id=ACCOUNT),
    "Bills": link("get", "/v1/accounts/{account_id}/bills", "Its bills", account_id=ACCOUNT),
    "Delinquency": link(
        "get", "/v1/accounts/{account_id}/delinquency", "Its delinquency", account_id=ACCOUNT
    ),
    "Offers": link("get", "/v1/accounts/{account_id}/offers", "Its offers", account_id=ACCOUNT),
    "MakeArrangement": link(
        "post", "/v1/accounts/{account_id}/arrangements", "An arrangement", account_id=ACCOUNT
    ),
    "Pause": link("post", "/v1/accounts/{account_id}/pauses", "A pause", account_id=ACCOUNT),
}
PAYMENT = "$response.body#/id"
PAYMENT_LINKS = {
    "GetPayment": link("get", "/v1/payments/{payment_id}", "The payment", payment_id=PAYMENT),
    "Reverse": link(
        "post", "/v1/payments/{payment_id}/reversal", "A chargeback", payment_id=PAYMENT
    ),
}


def _payment_out(session: SessionDep, payment: Payment) -> schemas.Payment:
    out = schemas.Payment.model_validate(payment)
    out.allocations = ledger_payments.allocations_of(session, payment.id)
    return out


@router.post(
    "/customers",
    status_code=201,
    response_model=schemas.Customer,
    summary="Create a customer",
    responses={
        **responses(DuplicateReference, *IDEMPOTENT_ERRORS),
        **links(201, **CUSTOMER_LINKS),
    },
)
def create_customer(
    request: Request,
    data: schemas.CustomerCreate,
    body: RawBody,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.customers_write),
) -> JSONResponse:
    """Create a customer. Personal fields are encrypted at rest and come back masked.
    Phones are normalised to E.164; time zones are inferred from phones and address when not given."""

    def produce() -> tuple[int, schemas.Customer]:
        customer = ledger_customers.create_customer(session, data, clock=clock)
        return 201, schemas.Customer.masked(ledger_customers.get_customer(session, customer.id))

    return respond(request, body, session, clock, "customers.create", produce)


@router.get(
    "/customers",
    response_model=ListResource[schemas.Customer],
    summary="List customers",
    responses=links(
        200,
        GetFirst=link(
            "get",
            "/v1/customers/{customer_id}",
            "The first listed",
            customer_id="$response.body#/items/0/id",
        ),
    ),
)
def list_customers(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    jurisdiction: Annotated[str | None, Query(max_length=16, examples=["CN"])] = None,
    phone: Annotated[
        str | None, Query(max_length=32, description="exact, in E.164", examples=["+8613812345678"])
    ] = None,
    email: Annotated[str | None, Query(max_length=254, examples=["li.wei@example.com"])] = None,
    national_id: Annotated[str | None, Query(max_length=64)] = None,
    _: Principal = require(P.customers_read),
) -> ListResource[schemas.Customer]:
    """Customers in creation order, masked. `phone`, `email` and `national_id` find a person through
    blind indexes (keyed hashes of the normalised value): nothing is decrypted to search."""
    page = CustomerRepository(session).page(
        limit=limit,
        offset=offset,
        jurisdiction=jurisdiction,
        **ledger_customers.lookup_indexes(phone=phone, email=email, national_id=national_id),
    )
    return ListResource(
        items=[schemas.Customer.masked(c) for c in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/customers/{customer_id}",
    response_model=schemas.Customer,
    summary="Get a customer",
    responses=responses(CustomerNotFound),
)
def get_customer(
    customer_id: RowId,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.customers_read),
) -> schemas.Customer:
    """One customer, personal fields masked. The view goes on the customer's data-access log."""
    customer = ledger_customers.get_customer(session, customer_id)
    audit_service.log_access(
        session,
        customer_id=customer.id,
        actor=principal.actor,
        kind="view",
        fields=["name", "phones", "emails", "national_id"],
        reason="customer record opened (masked)",
        clock=clock,
    )
    return schemas.Customer.masked(customer)


@router.post(
    "/customers/{customer_id}/reveal",
    response_model=schemas.RevealedCustomer,
    summary="Reveal personal data",
    responses=responses(CustomerNotFound),
)
def reveal_customer(
    customer_id: RowId,
    data: schemas.RevealRequest,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.customers_reveal),
) -> schemas.RevealedCustomer:
    """Show chosen personal fields in clear. Needs the reveal permission and a stated reason; the
    reveal goes on the audit ledger and on the data-access log the customer sees."""
    return ledger_customers.reveal(session, customer_id, data, actor=principal.actor, clock=clock)


@router.get(
    "/customers/{customer_id}/data-access",
    response_model=list[schemas.DataAccessEntry],
    summary="Who viewed this customer's data",
    responses=responses(CustomerNotFound),
)
def customer_data_access(
    customer_id: RowId, session: SessionDep, _: Principal = require(P.customers_read)
) -> list[schemas.DataAccessEntry]:
    """Every view and reveal of the customer's data: who, when, which fields and why."""
    ledger_customers.get_customer(session, customer_id)
    return [
        schemas.DataAccessEntry.model_validate(e)
        for e in audit_service.access_log(session, customer_id)
    ]


@router.post(
    "/accounts",
    status_code=201,
    response_model=schemas.Account,
    summary="Open an account",
    responses={
        **responses(CustomerNotFound, DuplicateReference, *IDEMPOTENT_ERRORS),
        **links(201, **ACCOUNT_LINKS),
    },
)
def create_account(
    request: Request,
    data: schemas.AccountCreate,
    body: RawBody,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.accounts_write),
) -> JSONResponse:
    """An account of a product (BNPL order, credit line, micro-loan, ...) held by a customer."""

    def produce() -> tuple[int, schemas.Account]:
        return 201, schemas.Account.model_validate(
            ledger_accounts.create_account(session, data, clock=clock)
        )

    return respond(request, body, session, clock, "accounts.create", produce)


@router.get("/accounts", response_model=ListResource[schemas.Account], summary="List accounts")
def list_accounts(
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
    customer_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    _: Principal = require(P.accounts_read),
) -> ListResource[schemas.Account]:
    """Accounts in creation order, optionally of one customer."""
    page = AccountRepository(session).page(limit=limit, offset=offset, customer_id=customer_id)
    return ListResource(
        items=[schemas.Account.model_validate(a) for a in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/accounts/{account_id}",
    response_model=schemas.Account,
    summary="Get an account",
    responses=responses(AccountNotFound),
)
def get_account(
    account_id: RowId, session: SessionDep, _: Principal = require(P.accounts_read)
) -> schemas.Account:
    """One account."""
    return schemas.Account.model_validate(ledger_accounts.get_account(session, account_id))


@router.get(
    "/accounts/{account_id}/bills",
    response_model=list[schemas.Bill],
    summary="List an account's bills",
    responses=responses(AccountNotFound),
)
def list_bills(
    account_id: RowId, session: SessionDep, _: Principal = require(P.accounts_read)
) -> list[schemas.Bill]:
    """Bills by due date, each with what has been allocated to it."""
    ledger_accounts.get_account(session, account_id)
    paid = ledger_billing.paid_by_bill(session, account_id)
    return [
        schemas.Bill(
            id=b.id,
            account_id=b.account_id,
            external_ref=b.external_ref,
            due_date=b.due_date,
            principal_minor=b.principal_minor,
            interest_minor=b.interest_minor,
            fees_minor=b.fees_minor,
            paid_minor=paid.get(b.id, 0),
        )
        for b in ledger_billing.bills(session, account_id)
    ]


@router.post(
    "/bills",
    status_code=201,
    response_model=schemas.Bill,
    summary="Add a bill",
    responses={
        **responses(AccountNotFound, DuplicateReference, *IDEMPOTENT_ERRORS),
        **links(
            201,
            Bills=link(
                "get",
                "/v1/accounts/{account_id}/bills",
                "The account's bills",
                account_id="$response.body#/account_id",
            ),
        ),
    },
)
def create_bill(
    request: Request,
    data: schemas.BillCreate,
    body: RawBody,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.accounts_write),
) -> JSONResponse:
    """An instalment or statement. Existing payments and credit are re-applied by the waterfall."""

    def produce() -> tuple[int, schemas.Bill]:
        bill = flows.add_bill(session, data, clock=clock)
        paid = ledger_billing.paid_by_bill(session, bill.account_id).get(bill.id, 0)
        return 201, schemas.Bill(
            id=bill.id,
            account_id=bill.account_id,
            external_ref=bill.external_ref,
            due_date=bill.due_date,
            principal_minor=bill.principal_minor,
            interest_minor=bill.interest_minor,
            fees_minor=bill.fees_minor,
            paid_minor=paid,
        )

    return respond(request, body, session, clock, "bills.create", produce)


@router.post(
    "/payments",
    status_code=201,
    response_model=schemas.Payment,
    summary="Record a payment",
    responses={
        200: {
            "description": "Already recorded under this external_id",
            "model": schemas.Payment,
            "links": PAYMENT_LINKS,
        },
        **responses(AccountNotFound, DuplicateReference, *IDEMPOTENT_ERRORS),
        **links(201, **PAYMENT_LINKS),
    },
)
def create_payment(
    request: Request,
    data: schemas.PaymentCreate,
    body: RawBody,
    session: SessionDep,
    clock: ClockDep,
    _: Principal = require(P.payments_write),
) -> JSONResponse:
    """Record money received and allocate it by the product's waterfall. Idempotent on `external_id`
    (and on `Idempotency-Key`): a repeat returns the first payment and changes nothing. A payment dated
    in the past recomputes delinquency from that date."""

    def produce() -> tuple[int, schemas.Payment]:
        payment, created = flows.receive_payment(session, data, clock=clock)
        return (201 if created else 200), _payment_out(session, payment)

    return respond(request, body, session, clock, "payments.create", produce)


@router.get(
    "/payments/{payment_id}",
    response_model=schemas.Payment,
    summary="Get a payment",
    responses=responses(PaymentNotFound),
)
def get_payment(
    payment_id: RowId, session: SessionDep, _: Principal = require(P.accounts_read)
) -> schemas.Payment:
    """One payment with its allocations."""
    return _payment_out(session, ledger_payments.get_payment(session, payment_id))


@router.post(
    "/payments/{payment_id}/reversal",
    response_model=schemas.Payment,
    summary="Reverse a payment",
    responses=responses(PaymentNotFound),
)
def reverse_payment(
    payment_id: RowId,
    data: schemas.PaymentReversal,
    session: SessionDep,
    clock: ClockDep,
    principal: Principal = require(P.payments_reverse),
) -> schemas.Payment:
    """A chargeback: the payment stops counting, what it paid re-opens, and delinquency is recomputed
    from its value date. Reversing twice changes nothing."""
    payment = flows.reverse_payment(session, payment_id, data, clock=clock, actor=principal.actor)
    return _payment_out(session, payment)
