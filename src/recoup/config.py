"""The one settings object. Every value can be set as an environment variable prefixed `RECOUP_`."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from recoup.kit.errors import ConfigurationError

# Signs links in development only; production refuses to start without RECOUP_LINK_KEYS.
DEVELOPMENT_LINK_KEY = b"recoup development link key: never in production"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


DEMO_CREDITOR = "Recoup Wallet"  # development and the demo; production names its own


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOUP_", env_file=".env", extra="ignore")

    env: Environment = Field(Environment.development, description="development, test or production")
    database_url: str = Field(
        "sqlite:///recoup.db",
        description="SQLAlchemy URL; SQLite file in the working directory by default, "
        "postgresql+psycopg://... in production",
    )
    database_echo: bool = False
    database_pool_size: int = Field(
        5,
        ge=1,
        le=1000,
        description="PostgreSQL: connections each process keeps open (SQLAlchemy's QueuePool); "
        "size it to the process's threads (the API's thread pool, the workers) and the server's "
        "max_connections divided among the processes",
    )
    database_max_overflow: int = Field(
        10,
        ge=0,
        le=1000,
        description="PostgreSQL: connections opened beyond the pool under a burst, closed when "
        "returned",
    )
    encryption_key_file: Path = Field(
        Path("recoup-keys.json"), description="keyring JSON written by `recoup init` in development"
    )
    encryption_keys: SecretStr | None = Field(
        None, description="keyring JSON given inline; takes precedence over the key file"
    )
    audit_signing_key_file: Path = Field(
        Path("recoup-audit-key.pem"),
        description="Ed25519 private key (PEM) that signs audit checkpoints; `recoup init` writes one",
    )
    audit_trusted_keys: list[str] = Field(
        default_factory=list,
        description="earlier audit public keys (PEM), so checkpoints signed before a rotation verify",
    )
    wallet_webhook_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="HMAC secrets accepted on the wallet's payment webhook; several allow rotation",
    )
    webhook_tolerance_seconds: int = Field(300, ge=1, description="max age of a signed webhook")
    log_level: str = Field(
        "WARNING", description="DEBUG, INFO, WARNING or ERROR; `serve` uses INFO at least"
    )
    log_file: Path | None = Field(
        None, description="append JSON log lines here instead of standard error"
    )
    compliance_house_file: Path | None = Field(
        None,
        description="a YAML house policy over the shipped rule packs (stricter rules, optional rules "
        "switched off); see docs/compliance.md",
    )
    kpi_targets_file: Path | None = Field(
        None,
        description="a YAML file of targets per KPI for the dashboard (the shape of "
        "src/recoup/analytics/targets.yaml, which holds the defaults)",
    )
    calendars_file: Path | None = Field(
        None,
        description="a YAML calendar file (holidays and make-up working days per country and year) "
        "over the shipped tables; the compliance guard reads this variable itself "
        "(recoup.compliance.calendars), see docs/compliance.md",
    )
    default_grace_days: int = Field(
        0, ge=0, description="grace days for products without their own"
    )
    business_timezone: str = Field(
        "Asia/Shanghai",
        description="the zone whose calendar day the daily run is for (`recoup run daily` without "
        "--as-of, `recoup scheduler`, the reports' days)",
    )
    daily_run_at: str = Field(
        "06:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="local time (HH:MM, in business_timezone) at which `recoup scheduler` runs the day",
    )
    spark_master: str = Field(
        "local[2]",
        max_length=500,
        description="where `recoup run daily --engine spark` runs Spark: `local[N]` (N worker "
        "threads here), `spark://host:7077`, `yarn`, `k8s://...` (docs/strategy.md)",
    )
    spark_staging: str | None = Field(
        None,
        max_length=500,
        description="a folder every Spark worker reads at the same path (a shared filesystem): "
        "the day's frames go there as Parquet files per partition instead of inside the tasks "
        "(docs/strategy.md); unset, they travel in the tasks",
    )
    bucket_bounds: list[int] = Field(
        default_factory=lambda: [1, 31, 61, 91],
        description="lower DPD bound of each bucket after M0; defaults give M1 1-30 ... M3+ over 90",
    )

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses (or CIDR networks) of the reverse proxies in front of `recoup serve` "
        "whose X-Forwarded-For and X-Forwarded-Proto are believed; empty (the default): none is, "
        "and the peer's own address is the client's (sign-in limits count it)",
    )

    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="where debtors reach Recoup: pay links and one-click unsubscribe links start here",
    )
    link_keys: list[SecretStr] = Field(
        default_factory=list,
        description="HMAC keys that sign pay and unsubscribe links; the first signs, all verify",
    )
    wallet_payments_url: str | None = Field(
        None,
        description="the wallet's payment API (docs/repayment.md); unset in development: the "
        "sandbox wallet served by Recoup at /sandbox/wallet/api",
    )
    wallet_api_secrets: list[SecretStr] = Field(
        default_factory=list,
        description="HMAC secrets signing Recoup's calls to the wallet's payment API (first signs)",
    )
    creditor_name: str = Field(
        DEMO_CREDITOR,
        min_length=1,
        max_length=100,
        description="the creditor named in every message and portal page (the wallet or lender); "
        "production refuses the default, which names the demo's wallet",
    )
    support_phone: str = Field("400-000-0000", description="the number messages give for help")
    channels_file: Path | None = Field(
        None,
        description="YAML naming the provider of each channel (SMTP, Twilio, FCM...); without it "
        "every message goes to the spool directory (outside production; see channels_spool)",
    )
    letter_font: Path | None = Field(
        None,
        description="the TrueType/OpenType font letters are printed in (it must have Chinese "
        "glyphs); without it fontconfig's choice for Chinese (Debian: fonts-wqy-microhei)",
    )
    letter_address: str = Field(
        "",
        description="the mailing address printed on letters as the collector's (where disputes "
        "are written to), lines separated by `|`; letters are refused without it",
    )
    complaints_contact: str = Field(
        "",
        description="where a debtor complains, printed on Chinese letters (a number and hours, "
        "or an address); letters to China are refused without it",
    )
    channels_spool: bool = Field(
        False,
        description="in production without a channels file, write every message to the spool "
        "directory (a staging or demo deployment); otherwise production refuses to start a worker",
    )
    spool_dir: Path = Field(
        Path("recoup-outbox"),
        description="where the spool channel writes messages (development, demo, local sinks)",
    )
    dispatch_batch: int = Field(200, ge=1, le=5000, description="contacts claimed per batch")
    dispatch_lease_seconds: int = Field(
        300, ge=10, description="a worker that holds a contact longer is presumed dead"
    )
    dispatch_max_attempts: int = Field(6, ge=1, description="sends tried before the dead letter")
    dispatch_retry_seconds: float = Field(
        30.0, gt=0, description="first retry delay; doubles each attempt, with jitter"
    )
    dispatch_retry_cap_seconds: float = Field(3600.0, gt=0, description="longest retry delay")
    dispatch_max_lateness_hours: float = Field(
        12.0, gt=0, description="a contact this late past its planned moment expires unsent"
    )
    clock_start: dt.datetime | None = Field(
        None,
        description="development and tests only: the clock starts at this instant and runs at "
        "real speed (a worker on a planned day in process tests); production refuses it",
    )
    audit_checkpoint_entries: int = Field(
        1000, ge=1, le=1_000_000, description="sign an audit checkpoint after this many entries"
    )
    audit_checkpoint_minutes: float = Field(
        60.0,
        gt=0,
        le=24 * 60,
        description="sign an audit checkpoint when the oldest entry not under one is this old "
        "(checked whenever an entry is written, and by the worker between batches)",
    )

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from exc
        return value

    @property
    def business_zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.business_timezone)

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.env is Environment.production:
            missing = []
            if self.encryption_keys is None and not self.encryption_key_file.exists():
                missing.append("RECOUP_ENCRYPTION_KEYS or RECOUP_ENCRYPTION_KEY_FILE")
            if not self.audit_signing_key_file.exists():
                missing.append("RECOUP_AUDIT_SIGNING_KEY_FILE")
            if not self.link_keys:
                missing.append("RECOUP_LINK_KEYS")
            if not self.wallet_payments_url or not self.wallet_api_secrets:
                missing.append("RECOUP_WALLET_PAYMENTS_URL and RECOUP_WALLET_API_SECRETS")
            if not self.wallet_webhook_secrets:
                missing.append("RECOUP_WALLET_WEBHOOK_SECRETS")
            if self.clock_start is not None:
                raise ConfigurationError("production refuses RECOUP_CLOCK_START (tests only)")
            if self.creditor_name == DEMO_CREDITOR:
                # Debtors are told who their creditor is; the demo's name is the vendor's product.
                missing.append("RECOUP_CREDITOR_NAME (the wallet or lender debtors owe)")
            if self.database_url.startswith("sqlite"):
                missing.append("RECOUP_DATABASE_URL (PostgreSQL; SQLite is for development)")
            if missing:
                raise ConfigurationError(
                    "production refuses to start without: " + ", ".join(missing)
                )
        return self

    @property
    def link_signing_keys(self) -> list[bytes]:
        """The keys for links; development without any signs with a fixed, public one."""
        keys = [k.get_secret_value().encode() for k in self.link_keys]
        return keys or [DEVELOPMENT_LINK_KEY]

    @property
    def sandbox_wallet(self) -> bool:
        """Recoup plays the wallet itself (development, tests, the demo)."""
        return self.env is not Environment.production and self.wallet_payments_url is None

    @property
    def wallet_api(self) -> tuple[str, list[str]]:
        """Where the wallet's payment API is and the secrets that sign calls to it."""
        secrets = [s.get_secret_value() for s in self.wallet_api_secrets]
        if self.wallet_payments_url:
            return self.wallet_payments_url, secrets
        return f"{self.public_url.rstrip('/')}/sandbox/wallet/api", secrets or [
            DEVELOPMENT_LINK_KEY.decode()
        ]

    @property
    def wallet_webhook_keys(self) -> list[bytes]:
        """The secrets the wallet's webhook accepts; with the sandbox wallet and none configured,
        the development key it signs with (production refuses to start without secrets)."""
        keys = [s.get_secret_value().encode() for s in self.wallet_webhook_secrets]
        return keys or ([DEVELOPMENT_LINK_KEY] if self.sandbox_wallet else [])

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
