from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from recoup.kit.masking import mask_email, mask_id, mask_name, mask_phone
from recoup.kit.money import MAX_MINOR, is_currency
from recoup.kit.schemas import Schema
from recoup.ledger import contacts
from recoup.models import AccountStatus, Collector, ContactSource, PaymentSource, PhoneType


def _currency(value: str) -> str:
    value = value.upper()
    if not is_currency(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("give the time zone offset, for example 2026-06-15T10:30:00+08:00")
    return value.astimezone(dt.UTC)


Currency = Annotated[
    str, Field(min_length=3, max_length=3, examples=["CNY"]), AfterValidator(_currency)
]
Minor = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_MINOR,
        strict=True,
        description="Amount in minor units (fen, cents), at most 10^15",
    ),
]
Ref = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w.:/@-]+$")]
AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]


class PhoneIn(Schema):
    number: str = Field(
        description="Phone number; normalised to E.164", examples=["+8613812341234"]
    )
    type: PhoneType = Field(PhoneType.mobile, description="mobile, home, work or other")
    source: ContactSource = Field(ContactSource.customer, description="Who gave the number")
    _zones: list[str] = PrivateAttr(
        default_factory=list
    )  # from the numbering plan, set on validation


class EmailIn(Schema):
    address: str = Field(description="E-mail address", examples=["li.na@example.com"])
    source: ContactSource = Field(ContactSource.customer)


class AddressIn(Schema):
    country: str = Field(
        min_length=2, max_length=2, description="ISO 3166-1 alpha-2", examples=["CN"]
    )
    region: str | None = Field(None, max_length=16, description="Subdivision code", examples=["GD"])
    city: str | None = Field(None, max_length=128, examples=["深圳"])
    postal_code: str | None = Field(None, max_length=32, examples=["518000"])
    line: str | None = Field(None, max_length=512, description="Street address")

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


SEXES = ("F", "M", "X")
EARLIEST_BIRTH_YEAR = 1900


LATEST_BIRTH_YEAR = 2100  # the services refuse a year after their clock's (`born_by`)


def check_birth_year(year: int) -> int:
    """A plausible year of birth: from 1900 (a year after today's is refused where a clock is)."""
    if not EARLIEST_BIRTH_YEAR <= year <= LATEST_BIRTH_YEAR:
        raise ValueError(f"{year} is not a year of birth (from {EARLIEST_BIRTH_YEAR})")
    return year


def born_by(year: int | None, today: dt.date) -> str | None:
    """Why a year of birth is refused on `today` (a year still to come), or None."""
    if year is not None and year > today.year:
        return f"{year} is not a year of birth (it has not come yet)"
    return None


class CustomerCreate(Schema):
    external_ref: Ref = Field(description="The wallet's own user reference", examples=["u-100234"])
    name: str = Field(min_length=1, max_length=256, examples=["李娜"])
    # Before the phones: numbers without a country code are read in the jurisdiction's country.
    jurisdiction: str = Field(description="ISO 3166 country, optional subdivision", examples=["CN"])
    national_id: str | None = Field(None, max_length=64, description="Stored encrypted")
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    emails: list[EmailIn] = Field(default_factory=list, max_length=20)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=10)
    preferred_language: str = Field("zh-CN", pattern=r"^(zh-CN|zh-TW|en)$", examples=["zh-CN"])
    timezones: list[str] = Field(
        default_factory=list,
        description="Candidate IANA zones; inferred from phones and address when empty",
        examples=[["Asia/Shanghai"]],
    )
    birth_year: int | None = Field(
        None, description="Year of birth (the only part of a birth date kept)", examples=[1994]
    )
    birth_date: dt.date | None = Field(
        None,
        description="Accepted for convenience; only its year is stored (data minimisation)",
        examples=["1994-03-17"],
    )
    sex: str | None = Field(None, description="F, M or X", examples=["F"])

    @field_validator("birth_year")
    @classmethod
    def _birth_year(cls, value: int | None) -> int | None:
        return value if value is None else check_birth_year(value)

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if value is not None:
            check_birth_year(value.year)
            year = info.data.get("birth_year")
            if year is not None and year != value.year:
                raise ValueError(f"the year of {value} is not birth_year {year}")
        return value

    @field_validator("sex")
    @classmethod
    def _sex(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        sex = value.strip().upper()
        if sex not in SEXES:
            raise ValueError(f"{value!r} is not F, M or X")
        return sex

    @model_validator(mode="after")
    def _year_of_birth_date(self) -> CustomerCreate:
        """A birth date is cut to its year here, before anything stores it."""
        if self.birth_date is not None:
            self.birth_year = self.birth_date.year
            self.birth_date = None
        return self

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        return _contact(contacts.check_jurisdiction, value)

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[EmailIn]) -> list[EmailIn]:
        for email in value:
            email.address = _contact(contacts.normalise_email, email.address)
        return value

    @field_validator("timezones")
    @classmethod
    def _zones(cls, value: list[str]) -> list[str]:
        return [_contact(contacts.check_zone, z) for z in value]

    @field_validator("phones")
    @classmethod
    def _phones(cls, value: list[PhoneIn], info: ValidationInfo) -> list[PhoneIn]:
        region = str(info.data.get("jurisdiction") or "CN")[:2]
        for phone in value:
            try:
                phone.number, phone._zones = contacts.parse_phone(phone.number, region)
            except contacts.ContactError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @model_validator(mode="after")
    def _infer_zones(self) -> CustomerCreate:
        if not self.timezones:
            zones: list[str] = []
            for phone in self.phones:
                zones += [z for z in phone._zones if z not in zones]
            country = self.addresses[0].country if self.addresses else self.jurisdiction[:2]
            self.timezones = zones or contacts.zones_for_country(country)
        return self


def _contact(check: Any, value: str) -> str:
    try:
        result: str = check(value)
    except contacts.ContactError as exc:
        raise ValueError(str(exc)) from exc
    return result


class PhoneOut(Schema):
    number: str = Field(description="Masked", examples=["+86138****1234"])
    type: str
    source: str


class EmailOut(Schema):
    address: str = Field(description="Masked", examples=["l***@example.com"])
    source: str


class Customer(Schema):
    id: int
    external_ref: str
    name: str = Field(description="Masked", examples=["李*"])
    national_id: str | None = Field(description="Masked")
    phones: list[PhoneOut]
    emails: list[EmailOut]
    preferred_language: str
    jurisdiction: str
    timezones: list[str]
    birth_year: int | None = Field(None, examples=[1994])
    sex: str | None = Field(None, description="F, M or X", examples=["F"])
    created_at: dt.datetime

    @classmethod
    def masked(cls, customer: Any) -> Customer:
        return cls(
            id=customer.id,
            external_ref=customer.external_ref,
            name=mask_name(customer.name),
            national_id=mask_id(customer.national_id) if customer.national_id else None,
            phones=[
                PhoneOut(number=mask_phone(p.number), type=p.type, source=p.source)
                for p in customer.phones
            ],
            emails=[
                EmailOut(address=mask_email(e.address), source=e.source) for e in customer.emails
            ],
            preferred_language=customer.preferred_language,
            jurisdiction=customer.jurisdiction,
            timezones=list(customer.timezones),
            birth_year=customer.birth_year,
            sex=customer.sex,
            created_at=customer.created_at,
        )


class AccountCreate(Schema):
    external_ref: Ref = Field(examples=["bnpl-778812"])
    customer_ref: Ref = Field(description="external_ref of the customer", examples=["u-100234"])
    product: str = Field(description="Product code", examples=["bnpl"])
    currency: Currency
    credit_limit_minor: Minor | None = None
    opened_date: dt.date = Field(examples=["2026-05-01"])
    closed_date: dt.date | None = None
    status: AccountStatus = AccountStatus.open
    collector: Collector = Field(Collector.creditor, description="creditor or agency")
    agency_ref: str | None = Field(None, max_length=128)


class Account(Schema):
    id: int
    external_ref: str
    customer_id: int
    product_code: str
    currency: str
    credit_limit_minor: int | None
    opened_date: dt.date
    closed_date: dt.date | None
    status: str
    collector: str
    agency_ref: str | None
    created_at: dt.datetime


class BillCreate(Schema):
    account_ref: Ref = Field(examples=["bnpl-778812"])
    external_ref: Ref = Field(description="Unique within the account", examples=["inst-1"])
    due_date: dt.date = Field(examples=["2026-06-05"])
    principal_minor: Minor = 0
    interest_minor: Minor = 0
    fees_minor: Minor = 0

    @model_validator(mode="after")
    def _something_due(self) -> BillCreate:
        if self.principal_minor + self.interest_minor + self.fees_minor == 0:
            raise ValueError("a bill must have something due")
        return self


class Bill(Schema):
    id: int
    account_id: int
    external_ref: str
    due_date: dt.date
    principal_minor: int
    interest_minor: int
    fees_minor: int
    paid_minor: int = Field(description="Allocated to this bill so far")


class PaymentCreate(Schema):
    external_id: Ref = Field(
        description="The payment's id at the wallet; unique", examples=["wx-pay-1"]
    )
    account_ref: Ref = Field(examples=["bnpl-778812"])
    amount_minor: Annotated[int, Field(gt=0, le=MAX_MINOR, strict=True)] = Field(examples=[60000])
    currency: Currency
    received_at: AwareDatetime = Field(examples=["2026-06-06T09:30:00+08:00"])
    source: PaymentSource = PaymentSource.wallet


class PaymentReversal(Schema):
    reason: str = Field(min_length=1, max_length=256, examples=["chargeback"])
    reversed_at: AwareDatetime | None = Field(None, description="Defaults to now")


class AllocationOut(Schema):
    bill_id: int
    component: str
    amount_minor: int


class Payment(Schema):
    id: int
    external_id: str
    account_id: int
    amount_minor: int
    currency: str
    received_at: dt.datetime
    value_date: dt.date
    source: str
    reversed_at: dt.datetime | None
    reversal_reason: str | None
    allocations: list[AllocationOut] = Field(default_factory=list)


class RevealField(StrEnum):
    name = "name"
    national_id = "national_id"
    phones = "phones"
    emails = "emails"
    addresses = "addresses"


class RevealRequest(Schema):
    fields: list[RevealField] = Field(min_length=1, examples=[["phones"]])
    reason: str = Field(
        min_length=5,
        max_length=256,
        description="Why; the customer can read it",
        examples=["debtor asked to be called back on another number"],
    )


class RevealedCustomer(Schema):
    id: int
    name: str | None = None
    national_id: str | None = None
    phones: list[str] | None = None
    emails: list[str] | None = None
    addresses: list[AddressIn] | None = None

    @classmethod
    def of(cls, customer: Any, fields: list[RevealField]) -> RevealedCustomer:
        wanted = set(fields)
        return cls(
            id=customer.id,
            name=customer.name if RevealField.name in wanted else None,
            national_id=customer.national_id if RevealField.national_id in wanted else None,
            phones=[p.number for p in customer.phones] if RevealField.phones in wanted else None,
            emails=[e.address for e in customer.emails] if RevealField.emails in wanted else None,
            addresses=[
                AddressIn(
                    country=a.country,
                    region=a.region,
                    city=a.city,
                    postal_code=a.postal_code,
                    line=a.line,
                )
                for a in customer.addresses
            ]
            if RevealField.addresses in wanted
            else None,
        )


class DataAccessEntry(Schema):
    at: dt.datetime
    actor: str = Field(examples=["staff:chen.gang"])
    kind: str = Field(description="view (masked) or reveal (in clear)")
    fields: list[str]
    reason: str
