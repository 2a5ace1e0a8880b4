"""A synthetic wallet portfolio: customers, accounts, bills and payment histories.

Realistic enough to exercise everything downstream, and deterministic for a seed. Rows come out as the
same string columns a CSV would hold and go in through the importer, so generated data passes exactly
the validation real files pass.

Shape (defaults from ../shared/calibration.md, each an assumption to sweep, not a fact):
- markets: mainland China by default; `foreign_share` of customers in the US (several states) and GB;
- products: BNPL pay-in-4 (fortnightly), a revolving credit line (monthly statements with interest), and
  micro-loans (one bullet repayment or three monthly instalments, with interest);
- payers: most pay on time (BNPL autopay), a share pay late and cure within days (most 1-29 DPD cure,
  as the NY Fed flow figures imply), a smaller share pay part and drift, and a few stop paying; the
  shares differ by product so micro-loans are the riskiest and BNPL the least (entry into 1-30 DPD of
  roughly 5-15 % of accounts a cycle, about 1 in 5 of those rolling to 31-60).
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import phonenumbers
import polars as pl
from faker import Faker

ONE_DAY = dt.timedelta(days=1)

US_STATES = {  # state: (area codes, city, postal code prefix)
    "CA": (["415", "213", "310", "408", "619"], "San Francisco", "941"),
    "NY": (["212", "718", "917", "646"], "New York", "100"),
    "MA": (["617", "508", "781"], "Boston", "021"),
    "WA": (["206", "425", "253"], "Seattle", "981"),
    "TX": (["214", "512", "713"], "Austin", "787"),
}
CN_REGIONS = [
    ("GD", "深圳", "518"),
    ("SH", "上海", "200"),
    ("BJ", "北京", "100"),
    ("SC", "成都", "610"),
    ("ZJ", "杭州", "310"),
]

# Behaviour mix per product: (on time, late but cures, partial drifter, stops paying)
PAYER_MIX = {
    "bnpl": (0.86, 0.09, 0.03, 0.02),
    "credit_line": (0.80, 0.12, 0.05, 0.03),
    "micro_loan": (0.72, 0.15, 0.07, 0.06),
}
PRODUCT_MIX = (("bnpl", 0.55), ("credit_line", 0.25), ("micro_loan", 0.20))
SCALE = {"CNY": 1.0, "USD": 0.15, "GBP": 0.12}  # amounts in each currency, against yuan
OFFSET = {"CNY": "+08:00", "USD": "-07:00", "GBP": "+00:00"}  # where the payers are
ON_TIME_DAYS = (0, 0, 0, 1, 2, 3)  # how early on-time payers pay
# Borrowers' ages (first age of each band, share) [assumption: calibration.md gives no age mix;
# wallet credit skews young, so 25-34 is the largest band and few borrowers are over 55].
AGE_MIX = ((18, 0.20), (25, 0.38), (35, 0.24), (45, 0.12), (55, 0.06))
OLDEST = 70
FOREIGN_TRAITS_KNOWN = 0.9  # share of US and GB customers whose wallet knows their age and sex
Row = dict[str, str | None]


class _Weighted:
    """`rng.choices(items, weights)[0]` with the cumulative weights summed once: the same draw of
    `rng.random()` and the same pick, without building lists on every call."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self.cumulative = list(accumulate(weights))
        self.total = self.cumulative[-1] + 0.0
        self.hi = len(self.items) - 1

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cumulative, rng.random() * self.total, 0, self.hi)]


PRODUCTS = _Weighted([p for p, _ in PRODUCT_MIX], [w for _, w in PRODUCT_MIX])
PAYERS = {product: _Weighted(range(4), mix) for product, mix in PAYER_MIX.items()}


@dataclass
class Portfolio:
    """Rows as a file holds them: every value a string, or None for an empty cell."""

    customers: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    bills: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)

    def frame(self, kind: str) -> pl.DataFrame:
        rows: list[Row] = getattr(self, kind)
        if not rows:
            return pl.DataFrame()
        frame = pl.from_dicts(rows, schema=dict.fromkeys(rows[0], pl.String))
        return frame.with_columns(_line=pl.int_range(2, frame.height + 2, dtype=pl.Int64))


@dataclass(frozen=True)
class _Fake:
    """A locale's Faker providers, their methods looked up once: looking one up through the
    Faker proxy costs about as much as making a short name."""

    name: Callable[[], str]
    street_address: Callable[[], str]
    city: Callable[[], str]
    postcode: Callable[[], str]

    @classmethod
    def of(cls, faker: Faker) -> _Fake:
        return cls(faker.name, faker.street_address, faker.city, faker.postcode)


class Generator:
    def __init__(
        self, *, seed: int, as_of: dt.date, foreign_share: float = 0.1, horizon: int = 20
    ) -> None:
        """`horizon`: days after `as_of` that credit-line statements run to; beyond 45, accounts
        also open after `as_of` (a simulation of that many days keeps seeing new bills fall due)."""
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.horizon = horizon
        self.foreign_share = foreign_share
        self.fakers = {loc: Faker(loc) for loc in ("zh_CN", "en_US", "en_GB")}
        for i, faker in enumerate(self.fakers.values()):
            faker.seed_instance(seed * 31 + i)
        self.people = {loc: _Fake.of(faker) for loc, faker in self.fakers.items()}
        self._seen_phones: set[str] = set()
        # Age and sex come from a stream of their own, so adding them left every other draw of a
        # seed's portfolio (accounts, bills, payments) as it was.
        self.traits = random.Random(seed * 7919 + 17)

    def portfolio(
        self, customers: int | None = None, *, accounts: int | None = None, prefix: str = ""
    ) -> Portfolio:
        """So many customers (each with one account, or two), or so many accounts in all."""
        if (customers is None) == (accounts is None):
            raise ValueError("give a number of customers or a number of accounts")
        out = Portfolio()
        n = 0
        while True:
            room = None if accounts is None else accounts - len(out.accounts)
            if n == customers or room == 0:
                return out
            self._customer(out, f"{prefix}c{n:07d}", room)
            n += 1

    # people

    def _customer(self, out: Portfolio, ref: str, room: int | None = None) -> None:
        rng = self.rng
        roll = rng.random()
        market = "CN" if roll >= self.foreign_share else "US" if rng.random() < 0.75 else "GB"
        if market == "CN":
            faker = self.people["zh_CN"]
            region, city, postal = rng.choice(CN_REGIONS)
            name = faker.name()
            phone = self._phone("CN", lambda: f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
            division = rng.randint(110000, 659000)
            # The ID's year of birth is the customer's: the old uniform draw over 40 years, refined
            # by the traits stream into a uniform number, picks the year from the age mix.
            uniform = (rng.randint(1965, 2004) - 1965 + self.traits.random()) / 40
            birth_year = self._birth_year(uniform)
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            sex = "F" if self.traits.random() < 0.5 else "M"
            sequence = _with_sex_digit(rng.randint(0, 9999), sex)
            national_id = f"{division}{birth_year}{month:02d}{day:02d}{sequence:04d}"
            row = {
                "external_ref": ref,
                "name": name,
                "national_id": national_id,
                "phones": f"mobile:{phone}",
                "emails": f"{ref}@example.cn" if rng.random() < 0.4 else None,
                "country": "CN",
                "region": region,
                "city": city,
                "postal_code": f"{postal}{rng.randint(0, 999):03d}",
                "address_line": faker.street_address(),
                "preferred_language": "zh-CN",
                "jurisdiction": "CN",
                "birth_year": str(birth_year),
                "sex": sex,
            }
            currency = "CNY"
        elif market == "US":
            faker = self.people["en_US"]
            state = rng.choice(list(US_STATES))
            codes, city, zip3 = US_STATES[state]
            # a phone from another state now and then: people move and keep their numbers
            area = rng.choice(
                codes if rng.random() < 0.8 else US_STATES[rng.choice(list(US_STATES))][0]
            )
            phone = self._phone(
                "US", lambda: f"{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            )
            jurisdiction = "US-MA" if state == "MA" else ("US-WA" if state == "WA" else "US")
            row = {
                "external_ref": ref,
                "name": faker.name(),
                "national_id": f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
                "phones": f"mobile:{phone}",
                "emails": f"{ref}@example.com",
                "country": "US",
                "region": state,
                "city": city,
                "postal_code": f"{zip3}{rng.randint(0, 99):02d}",
                "address_line": faker.street_address(),
                "preferred_language": "en",
                "jurisdiction": jurisdiction,
                **self._foreign_traits(),
            }
            currency = "USD"
        else:
            faker = self.people["en_GB"]
            phone = self._phone("GB", lambda: f"07{rng.choice('45789')}{rng.randrange(10**8):08d}")
            row = {
                "external_ref": ref,
                "name": faker.name(),
                "national_id": None,
                "phones": f"mobile:{phone}",
                "emails": f"{ref}@example.co.uk",
                "country": "GB",
                "region": None,
                "city": faker.city(),
                "postal_code": faker.postcode(),
                "address_line": faker.street_address(),
                "preferred_language": "en",
                "jurisdiction": "GB",
                **self._foreign_traits(),
            }
            currency = "GBP"
        out.customers.append(row)
        held = 1 if rng.random() < 0.8 else 2
        for i in range(held if room is None else min(held, room)):
            self._account(out, ref, f"{ref}-a{i}", currency)

    def _birth_year(self, uniform: float) -> int:
        """The year of birth at this point of the age mix's distribution (as of `as_of`)."""
        edges = [age for age, _ in AGE_MIX] + [OLDEST]
        for i, (first, share) in enumerate(AGE_MIX):
            if uniform < share or i == len(AGE_MIX) - 1:
                within = min(uniform / share, 0.999)
                age = first + int(within * (edges[i + 1] - first))
                return self.as_of.year - age
            uniform -= share
        raise AssertionError("unreachable")

    def _foreign_traits(self) -> dict[str, str | None]:
        traits = self.traits
        if traits.random() >= FOREIGN_TRAITS_KNOWN:
            return {"birth_year": None, "sex": None}
        roll = traits.random()
        sex = "X" if roll < 0.01 else "F" if roll < 0.505 else "M"
        return {"birth_year": str(self._birth_year(traits.random())), "sex": sex}

    def _phone(self, region: str, draw: Any) -> str:
        for _ in range(50):
            raw = draw()
            try:
                parsed = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                continue  # a draw the numbering plan refuses outright (some 179 numbers): redraw
            if phonenumbers.is_valid_number(parsed):
                e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                if e164 not in self._seen_phones:
                    self._seen_phones.add(e164)
                    return e164
        raise RuntimeError(f"could not draw a valid {region} phone number")

    # accounts and their histories

    def _account(self, out: Portfolio, customer_ref: str, ref: str, currency: str) -> None:
        rng = self.rng
        product = PRODUCTS.pick(rng)
        opened = self.as_of - dt.timedelta(days=rng.randint(20 - max(0, self.horizon - 45), 330))
        scale = SCALE[currency]
        limit = None
        schedule: list[tuple[dt.date, int, int]]  # due date, principal, interest (no fees)
        if product == "bnpl":
            amount = int(rng.lognormvariate(7.0, 0.7) * 100 * scale)  # ~¥1,100 median order
            parts = _split_amount(max(amount, 4_000), 4)
            schedule = [
                (opened + dt.timedelta(days=14 * (i + 1)), p, 0) for i, p in enumerate(parts)
            ]
        elif product == "credit_line":
            limit = int(rng.choice([5_000, 10_000, 20_000, 50_000]) * 100 * scale)
            schedule = []
            due = opened + dt.timedelta(days=45)
            while due <= self.as_of + dt.timedelta(days=self.horizon):
                principal = int(limit * rng.uniform(0.05, 0.35))
                schedule.append((due, principal, int(principal * 0.015)))
                due = _add_month(due)
        else:
            amount = int(rng.lognormvariate(7.6, 0.5) * 100 * scale)  # ~¥2,000
            if rng.random() < 0.5:
                schedule = [(opened + dt.timedelta(days=30), amount, int(amount * 0.02))]
            else:
                parts = _split_amount(amount, 3)
                schedule = [
                    (_add_month(opened, i + 1), p, int(p * 0.018)) for i, p in enumerate(parts)
                ]
        out.accounts.append(
            {
                "external_ref": ref,
                "customer_ref": customer_ref,
                "product": product,
                "currency": currency,
                "credit_limit_minor": None if limit is None else str(limit),
                "opened_date": opened.isoformat(),
                "collector": "creditor",
            }
        )
        payer = PAYERS[product].pick(rng)
        stop_after = rng.randint(0, len(schedule)) if payer == 3 else None
        offset = OFFSET[currency]
        # The day before `as_of`, a payer west of China pays before `as_of` begins in China (so
        # `recoup generate` for today never writes a payment later than now).
        eve, latest = self.as_of - dt.timedelta(days=1), 16 + int(offset[:3])
        bills, payments, as_of, randint = out.bills, out.payments, self.as_of, rng.randint
        for i, (due, principal, interest) in enumerate(schedule):
            bill_ref = f"{ref}-b{i + 1}"
            bills.append(
                {
                    "account_ref": ref,
                    "external_ref": bill_ref,
                    "due_date": due.isoformat(),
                    "principal_minor": str(principal),
                    "interest_minor": str(interest),
                    "fees_minor": "0",
                }
            )
            total = principal + interest
            for k, (day, amount) in enumerate(self._payments_for(payer, due, total, i, stop_after)):
                if day >= as_of:
                    break
                hour = randint(8, 22)
                minute = randint(0, 59)
                if day == eve and hour >= latest:
                    hour = latest - 1
                payments.append(
                    {
                        "external_id": f"{bill_ref}-p{k + 1}",
                        "account_ref": ref,
                        "amount_minor": str(amount),
                        "currency": currency,
                        # as `datetime.isoformat` writes a whole minute in the payer's offset
                        "received_at": f"{day.isoformat()}T{hour:02d}:{minute:02d}:00{offset}",
                        "source": "wallet",
                    }
                )

    def _payments_for(
        self, payer: int, due: dt.date, total: int, index: int, stop_after: int | None
    ) -> list[tuple[dt.date, int]]:
        rng = self.rng
        if payer == 0:  # on time, autopay or a tap before the due date
            return [(due - dt.timedelta(days=rng.choice(ON_TIME_DAYS)), total)]
        if payer == 1:  # late, most cure within days, some within weeks
            delay = int(rng.expovariate(1 / 6)) + 1
            return [(due + dt.timedelta(days=min(delay, 75)), total)]
        if payer == 2:  # part now, the rest late
            first = int(total * rng.uniform(0.2, 0.6))
            return [
                (due + dt.timedelta(days=rng.randint(0, 5)), first),
                (due + dt.timedelta(days=rng.randint(20, 70)), total - first),
            ]
        if stop_after is not None and index < stop_after:
            return [(due - dt.timedelta(days=rng.randint(0, 2)), total)]
        return []


def _with_sex_digit(sequence: int, sex: str) -> int:
    """A resident ID's last four digits with its 17th digit's parity saying the sex (odd: male,
    even: female; GB 11643-1999), moved by ten when it does not."""
    digit = sequence // 10 % 10
    if (digit % 2 == 1) != (sex == "M"):
        sequence += 10 if digit < 9 else -10
    return sequence


def _split_amount(amount: int, parts: int) -> list[int]:
    base = amount // parts
    return [base] * (parts - 1) + [amount - base * (parts - 1)]


def _add_month(day: dt.date, months: int = 1) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, 28))
