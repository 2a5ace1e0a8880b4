"""Process start-up shared by the CLI, the API server and the worker: keys, schema, reference data."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine

from recoup.audit import service as audit_service
from recoup.config import Environment, Settings
from recoup.contact import service as delivery_service
from recoup.education import service as education_service
from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.kit.clock import Clock
from recoup.kit.db import make_sessionmaker, session_scope
from recoup.kit.errors import ConfigurationError
from recoup.ledger import service as ledger_service


def load_master(settings: Settings) -> crypto.LocalMasterKey:
    """The master key that wraps the data keys: RECOUP_ENCRYPTION_KEYS (inline) or the key file."""
    if settings.encryption_keys is not None:
        master = crypto.LocalMasterKey.from_json(
            settings.encryption_keys.get_secret_value(), source="RECOUP_ENCRYPTION_KEYS"
        )
    elif settings.encryption_key_file.exists():
        master = crypto.load_master_key_file(settings.encryption_key_file)
    else:
        raise ConfigurationError(
            f"no master key: {settings.encryption_key_file} does not exist. Run `recoup init` "
            "(development) or set RECOUP_ENCRYPTION_KEYS / RECOUP_ENCRYPTION_KEY_FILE."
        )
    if master.development and settings.env is Environment.production:
        raise ConfigurationError(
            "production refuses a development master key; configure a real one"
        )
    return master


def ensure_master(settings: Settings) -> tuple[crypto.LocalMasterKey, bool]:
    """Load the master key, generating a development one on first run outside production."""
    if settings.encryption_keys is None and not settings.encryption_key_file.exists():
        if settings.env is Environment.production:
            raise ConfigurationError("production refuses to generate keys; configure them")
        crypto.write_master_key_file(
            settings.encryption_key_file, crypto.LocalMasterKey.generate(development=True)
        )
        return load_master(settings), True
    return load_master(settings), False


def install_keys(settings: Settings, engine: Engine) -> crypto.LocalMasterKey:
    """Load the master key and let the process unwrap the data keys from the database on demand."""
    master = load_master(settings)
    crypto.install_key_source(keys_service.key_source(engine, master))
    return master


def ensure_audit_signer(settings: Settings) -> bool:
    """Load (or, outside production, create) the audit signing key and install it. True if created."""
    path = settings.audit_signing_key_file
    created = False
    if not path.exists():
        if settings.env is Environment.production:
            raise ConfigurationError(f"production refuses to generate the audit signing key {path}")
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        created = True
    load_audit_signer(settings)
    return created


def load_audit_signer(settings: Settings) -> None:
    path = settings.audit_signing_key_file
    if not path.exists():
        raise ConfigurationError(f"no audit signing key at {path}; run `recoup init`")
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ConfigurationError(f"{path} is not an Ed25519 private key")
    trusted = []
    for pem in settings.audit_trusted_keys:
        key = serialization.load_pem_public_key(pem.encode())
        if isinstance(key, Ed25519PublicKey):
            trusted.append(key)
    audit_service.install_signer(audit_service.Signer(private, trusted))
    audit_service.install_policy(
        audit_service.CheckpointPolicy(
            entries=settings.audit_checkpoint_entries, minutes=settings.audit_checkpoint_minutes
        )
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def init_database(engine: Engine, *, clock: Clock, master: crypto.MasterKey | None = None) -> int:
    """Create or upgrade the schema, the data and index keys (given the master key), and seed
    reference data; backfill blind indexes rows lack. Safe to run any number of times."""
    migrate(engine)
    factory = make_sessionmaker(engine)
    if master is not None:
        with session_scope(factory) as session:
            keys_service.ensure_keys(session, master, clock=clock)
        crypto.install_key_source(keys_service.key_source(engine, master))
        with session_scope(factory) as session:
            ledger_service.backfill_indexes(session)
    with session_scope(factory) as session:
        delivery_service.seed(session, clock=clock)
        education_service.seed(session, clock=clock)
        return ledger_service.ensure_default_products(session, clock=clock)
