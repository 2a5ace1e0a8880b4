"""Customers and their contacts: made, found (by blind index too), changed and erased."""

from __future__ import annotations

from sqlalchemy.orm import Session

from recoup.audit import service as audit_service
from recoup.kit.clock import Clock
from recoup.kit.errors import ValidationFailed
from recoup.kit.indexes import email_index, national_id_index, phone_index
from recoup.ledger import repository, schemas
from recoup.ledger.contacts import ContactError, normalise_phone
from recoup.ledger.repository import CustomerRepository
from recoup.ledger.service.errors import CustomerNotFound, DuplicateReference
from recoup.models import Customer, CustomerAddress, CustomerEmail, CustomerPhone


def create_customer(session: Session, data: schemas.CustomerCreate, *, clock: Clock) -> Customer:
    repo = CustomerRepository(session)
    if repo.by_ref(data.external_ref) is not None:
        raise DuplicateReference(f"customer {data.external_ref!r} already exists")
    future = schemas.born_by(data.birth_year, clock.now().date())
    if future:
        raise ValidationFailed(future, details=[{"field": "birth_year", "problem": future}])
    customer = Customer(
        external_ref=data.external_ref,
        name=data.name,
        national_id=data.national_id,
        preferred_language=data.preferred_language,
        jurisdiction=data.jurisdiction,
        timezones=data.timezones,
        birth_year=data.birth_year,
        sex=data.sex,
        created_at=clock.now(),
        phones=[
            CustomerPhone(position=i, number=p.number, type=p.type, source=p.source)
            for i, p in enumerate(data.phones)
        ],
        emails=[
            CustomerEmail(position=i, address=e.address, source=e.source)
            for i, e in enumerate(data.emails)
        ],
        addresses=[
            CustomerAddress(position=i, **a.model_dump()) for i, a in enumerate(data.addresses)
        ],
    )
    return repo.create(customer)


def lookup_indexes(
    *, phone: str | None = None, email: str | None = None, national_id: str | None = None
) -> dict[str, str | None]:
    """The blind indexes to search by, from the values as a caller types them."""
    out: dict[str, str | None] = {"phone": None, "email": None, "national_id": None}
    if phone is not None:
        try:
            out["phone"] = phone_index(normalise_phone(phone, "ZZ"))
        except ContactError as exc:
            raise ValidationFailed(
                f"phone: {exc}; give it in E.164, such as +8613812345678",
                details=[{"field": "phone", "problem": str(exc)}],
            ) from exc
    if email is not None:
        out["email"] = email_index(email)
    if national_id is not None:
        out["national_id"] = national_id_index(national_id)
    return out


def get_customer(session: Session, customer_id: int, *, contacts: bool = True) -> Customer:
    """The customer; with `contacts`, their phones, e-mails and addresses loaded too (without,
    touching them raises: a caller that only needs the customer's own columns, such as the
    assistant answering a message, saves the three reads)."""
    repo = CustomerRepository(session)
    found = repo.by_id(customer_id) if contacts else repo.get(customer_id)
    if found is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    return found


def set_language(session: Session, customer: Customer, language: str, *, clock: Clock) -> None:
    """The language the customer asked to be written to in (their contact preferences): theirs
    from now on, chosen (`language_chosen_at`), so an answer to a message in another language
    still uses it."""
    customer.preferred_language = language
    customer.language_chosen_at = clock.now()
    session.flush()


def address_returned(
    session: Session, customer_id: int, address_id: int, *, evidence: str, clock: Clock
) -> bool:
    """A letter to this address of the customer's came back returned to sender: the address is
    marked (no letter goes there again) and the mark goes on the audit ledger. False when it was
    already marked, or is not this customer's."""
    if not repository.mark_address_returned(session, customer_id, address_id, clock.now()):
        return False
    audit_service.record(
        session,
        actor="post",
        action="customer.address_returned",
        subject_type="customer",
        subject_id=customer_id,
        clock=clock,
        details={"address": address_id, "evidence": evidence},
    )
    return True


def erase_customer(session: Session, customer: Customer, *, name: str, external_ref: str) -> None:
    """Replace the customer's personal data (an erasure the privacy package decided): the name and
    reference given, no national ID, year of birth, sex or time zones, and no phones, e-mails or
    addresses left."""
    customer.name = name
    customer.national_id = None
    customer.birth_year = None
    customer.sex = None
    customer.external_ref = external_ref
    customer.timezones = []
    repository.delete_customer_contacts(session, customer.id)


def backfill_indexes(session: Session) -> int:
    """Compute the blind indexes rows lack (rows written before indexes existed, or before the
    index key was installed); `recoup init` runs it."""
    repo = CustomerRepository(session)
    rows = repo.lacking_indexes()
    repo.reindex(rows)
    return len(rows)


def reveal(
    session: Session,
    customer_id: int,
    request: schemas.RevealRequest,
    *,
    actor: str,
    clock: Clock,
) -> schemas.RevealedCustomer:
    """Chosen personal fields in clear, for a stated reason: the reveal goes on the audit ledger
    and on the data-access log the customer sees. The API's reveal and the console's both call it."""
    customer = get_customer(session, customer_id)
    audit_service.log_access(
        session,
        customer_id=customer.id,
        actor=actor,
        kind="reveal",
        fields=[str(f) for f in request.fields],
        reason=request.reason,
        clock=clock,
    )
    return schemas.RevealedCustomer.of(customer, request.fields)
