"""Keys: the data and index keys (wrapped by the master key) and their rotation.

Invariants:
- exactly one active data key; values sealed under any other key are being moved (its state is
  `retiring`) or none remain (`retired`);
- the plaintext of a key exists only in process memory; the table holds it wrapped;
- rotation runs while the service serves: it re-seals in small transactions with compare-and-set,
  so a concurrent write is never overwritten, and it ends only when a pass finds no value under a
  retiring key after every process has had time to pick up the new key (`crypto.REFRESH_SECONDS`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, Table
from sqlalchemy.orm import Session, sessionmaker

from recoup.audit import service as audit_service
from recoup.keys.repository import EncryptionKeyRepository, key_prefixes, reseal, sealed_batch
from recoup.kit import crypto
from recoup.kit.clock import Clock
from recoup.kit.crypto import EncryptedString, Keyring, MasterKey
from recoup.kit.db import make_engine, make_sessionmaker, session_scope
from recoup.kit.errors import ConfigurationError
from recoup.models import (
    EncryptionKey,
    KeyPurpose,
    KeyState,
    Model,
)

Progress = Callable[[str, int, int], None]  # table, rows done, rows in table


def encrypted_columns() -> list[tuple[Table, list[str]]]:
    """Every table with sealed columns, found from the models, so a new one is never forgotten."""
    out = []
    for table in Model.metadata.sorted_tables:
        columns = [c.name for c in table.columns if isinstance(c.type, EncryptedString)]
        if columns:
            out.append((table, columns))
    return out


def load_keyring(session: Session, master: MasterKey) -> Keyring:
    keys: dict[str, bytes] = {}
    active: str | None = None
    index_key: bytes | None = None
    for row in EncryptionKeyRepository(session).all():
        if row.master_id != master.id:
            raise ConfigurationError(
                f"key {row.id} is wrapped by master key {row.master_id!r}, not the configured "
                f"{master.id!r}"
            )
        plain = master.unwrap(row.wrapped, key_id=row.id)
        if row.purpose == KeyPurpose.blind_index:
            index_key = plain
        else:
            keys[row.id] = plain
            if row.state == KeyState.active:
                active = row.id
    if active is None:
        raise ConfigurationError("no active data key in the database; run `recoup init`")
    return Keyring(active=active, keys=keys, development=master.development, index_key=index_key)


class DatabaseKeySource:
    """Loads the keyring on a connection of its own that takes no write lock: it may run in the
    middle of another transaction's flush. The connection comes from a pool of its own (an engine
    on the same database, made at the first load), never from the requests' pool: a request that
    holds the SQLite write lock (or an audit head's row lock) and reloads the keyring would
    otherwise wait for a connection that every other request holds while it waits for that lock,
    until the pool's timeout (found under load: `benchmarks/bench_api_load.py`). An in-memory
    SQLite database is one connection's own, so there the engine is shared. `close` disposes the
    pool of its own; `crypto` calls it when another source or keyring replaces this one."""

    def __init__(self, engine: Engine, master: MasterKey) -> None:
        self._engine = engine
        self._master = master
        url = engine.url
        self._separate = not (
            url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
        )
        self._loader: Engine | None = None
        self._lock = threading.Lock()

    @property
    def loader(self) -> Engine | None:
        """The engine of its own, once a load has made it (None before, and after `close`)."""
        return self._loader

    def __call__(self) -> Keyring:
        engine = self._engine
        if self._separate:
            with self._lock:
                if self._loader is None:
                    self._loader = make_engine(
                        self._engine.url.render_as_string(hide_password=False)
                    )
                engine = self._loader
        with (
            engine.connect().execution_options(read_only=True) as connection,
            Session(bind=connection) as session,
        ):
            return load_keyring(session, self._master)

    def close(self) -> None:
        with self._lock:
            loader, self._loader = self._loader, None
        if loader is not None:
            loader.dispose()


def key_source(engine: Engine, master: MasterKey) -> DatabaseKeySource:
    return DatabaseKeySource(engine, master)


def _new_key(session: Session, master: MasterKey, purpose: KeyPurpose, *, clock: Clock) -> str:
    kid, key = crypto.new_data_key()
    now = clock.now()
    EncryptionKeyRepository(session).create(
        EncryptionKey(
            id=kid,
            purpose=purpose,
            state=KeyState.active,
            master_id=master.id,
            wrapped=master.wrap(key, key_id=kid),
            created_at=now,
            activated_at=now,
        )
    )
    return kid


def ensure_keys(session: Session, master: MasterKey, *, clock: Clock) -> list[str]:
    """Create the data and index keys if the database has none. Returns the ids created."""
    repo = EncryptionKeyRepository(session)
    created = []
    if not repo.with_state(KeyPurpose.data, KeyState.active):
        created.append(_new_key(session, master, KeyPurpose.data, clock=clock))
    if not repo.with_state(KeyPurpose.blind_index, KeyState.active):
        created.append(_new_key(session, master, KeyPurpose.blind_index, clock=clock))
    for kid in created:
        audit_service.record(
            session,
            actor="system",
            action="keys.created",
            subject_type="encryption_key",
            subject_id=kid,
            clock=clock,
            details={"master_id": master.id},
        )
    return created


@dataclass
class KeyUse:
    key: EncryptionKey
    values: int


def usage(session: Session) -> dict[str, int]:
    """How many sealed values each key id holds (read from the values' headers, no decryption)."""
    counts: dict[str, int] = {}
    for table, columns in encrypted_columns():
        for column in columns:
            for prefix in key_prefixes(session, table, column):
                kid = Keyring.key_id_of(prefix)
                counts[kid] = counts.get(kid, 0) + 1
    return counts


def status(session: Session) -> list[KeyUse]:
    counts = usage(session)
    return [KeyUse(k, counts.get(k.id, 0)) for k in EncryptionKeyRepository(session).all()]


@dataclass
class Rotation:
    new_key: str
    retired: list[str]
    resealed: int = 0
    passes: int = 0
    conflicts: int = 0
    per_table: dict[str, int] = field(default_factory=dict)


def start_rotation(session: Session, master: MasterKey, *, actor: str, clock: Clock) -> str:
    """Activate a new data key (old ones become `retiring`), or resume an unfinished rotation."""
    repo = EncryptionKeyRepository(session)
    if repo.with_state(KeyPurpose.data, KeyState.retiring):
        (active,) = repo.with_state(KeyPurpose.data, KeyState.active)
        return active.id
    old = list(repo.with_state(KeyPurpose.data, KeyState.active))
    for row in old:
        row.state = KeyState.retiring
    session.flush()
    kid = _new_key(session, master, KeyPurpose.data, clock=clock)
    audit_service.record(
        session,
        actor=actor,
        action="keys.rotation_started",
        subject_type="encryption_key",
        subject_id=kid,
        clock=clock,
        details={"retiring": [r.id for r in old]},
    )
    return kid


def reseal_pass(
    factory: sessionmaker[Session],
    keyring: Keyring,
    report: Rotation,
    *,
    batch_size: int,
    progress: Progress | None = None,
) -> int:
    """Move every value not sealed under the keyring's active key to it, in small transactions.
    Returns how many moved."""
    active = keyring.active
    moved = 0
    for table, columns in encrypted_columns():
        contexts = {c: f"{table.name}.{c}".encode() for c in columns}
        after, done = 0, 0
        while True:
            with session_scope(factory) as session:
                rows = sealed_batch(session, table, columns, after, batch_size)
                for row_id, values in rows:
                    for column, blob in zip(columns, values, strict=True):
                        if blob is None or Keyring.key_id_of(blob) == active:
                            continue
                        plain = keyring.open(blob, contexts[column])
                        new = keyring.seal(plain, contexts[column])
                        if reseal(session, table, row_id, column, blob, new):
                            moved += 1
                        else:
                            report.conflicts += 1  # changed meanwhile: the next pass looks again
            if not rows:
                break
            after = rows[-1][0]
            done += len(rows)
            if progress:
                progress(table.name, done, 0)
        report.per_table[table.name] = report.per_table.get(table.name, 0) + done
    report.resealed += moved
    return moved


def finish_rotation(session: Session, *, actor: str, clock: Clock) -> list[str]:
    """Retire the retiring keys if no value is sealed under them any more."""
    repo = EncryptionKeyRepository(session)
    counts = usage(session)
    retiring = list(repo.with_state(KeyPurpose.data, KeyState.retiring))
    left = {r.id: counts.get(r.id, 0) for r in retiring if counts.get(r.id, 0)}
    if left:
        raise ConfigurationError(f"values are still sealed under retiring keys: {left}")
    now = clock.now()
    for row in retiring:
        row.state, row.retired_at = KeyState.retired, now
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="keys.rotation_completed",
        subject_type="encryption_key",
        subject_id=",".join(r.id for r in retiring) or "-",
        clock=clock,
        details={"retired": [r.id for r in retiring]},
    )
    return [r.id for r in retiring]


def rotate(
    engine: Engine,
    master: MasterKey,
    *,
    actor: str,
    clock: Clock,
    batch_size: int = 500,
    progress: Progress | None = None,
    settle_seconds: float | None = None,
) -> Rotation:
    """Rotate the data key while the service runs; safe to interrupt and run again (it resumes)."""
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        active = start_rotation(session, master, actor=actor, clock=clock)
    with factory() as session:
        keyring = load_keyring(session, master)
    if crypto.has_key_source():
        crypto.reload_keyring()  # this process seals under the new key from now on
    started = time.monotonic()
    report = Rotation(new_key=active, retired=[])
    settle = crypto.REFRESH_SECONDS + 1 if settle_seconds is None else settle_seconds
    for _ in range(20):
        report.passes += 1
        moved = reseal_pass(factory, keyring, report, batch_size=batch_size, progress=progress)
        # Other processes may seal under the old key until they next refresh their keyring.
        waited = time.monotonic() - started >= settle
        if moved == 0 and waited:
            break
        if not waited:
            time.sleep(max(0.0, settle - (time.monotonic() - started)))
    with session_scope(factory) as session:
        report.retired = finish_rotation(session, actor=actor, clock=clock)
    return report


def rewrap(session: Session, old: MasterKey, new: MasterKey, *, actor: str, clock: Clock) -> int:
    """Wrap every key under a new master key (master rotation: no value is re-sealed)."""
    rows = EncryptionKeyRepository(session).all()
    for row in rows:
        plain = old.unwrap(row.wrapped, key_id=row.id)
        row.wrapped, row.master_id = new.wrap(plain, key_id=row.id), new.id
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="keys.master_rotated",
        subject_type="master_key",
        subject_id=new.id,
        clock=clock,
        details={"previous": old.id, "keys": len(rows)},
    )
    return len(rows)
