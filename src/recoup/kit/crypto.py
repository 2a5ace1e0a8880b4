"""Field encryption: the single path for personal data at rest.

Envelope encryption. A value is sealed with AES-256-GCM under the keyring's active *data key*. The
stored form is

    b"\\x01" | len(key_id) | key_id | nonce(12) | ciphertext+tag

so every value names the data key that sealed it (rotation re-seals under a new id without a flag
day), and the column's context (for example ``customers.name``) is bound as associated data, so a
ciphertext copied into another column does not open. Data keys live in the database wrapped by the
*master key* (`MasterKey`: a local AES key from a file or the environment, or a KMS behind the same
two methods); the process unwraps them when it first needs them and keeps them in memory only.

A separate *index key* (also wrapped by the master) keys the blind indexes: HMAC-SHA256 over a
normalised phone (E.164), e-mail or national ID, so a lookup never decrypts the table.

A process installs a key source (`install_key_source`), which loads the keyring lazily and again
every few seconds, so a rotation started elsewhere reaches it: new values are sealed under the new
key soon after it is activated, and a value sealed under a key the process has not seen yet makes it
reload once before giving up. Tests install a fixed keyring (`install_keyring`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, LargeBinary
from sqlalchemy.types import TypeDecorator

from recoup.kit.errors import ConfigurationError

FORMAT_VERSION = 1
NONCE_BYTES = 12


class DecryptionError(Exception):
    pass


class UnknownKey(DecryptionError):
    pass


class MasterKey(Protocol):
    """Wraps and unwraps data keys. `LocalMasterKey` holds the key itself; a KMS adapter implements
    the same two calls against its service (the key never leaves it)."""

    @property
    def id(self) -> str: ...

    @property
    def development(self) -> bool: ...

    def wrap(self, data_key: bytes, *, key_id: str) -> bytes: ...

    def unwrap(self, wrapped: bytes, *, key_id: str) -> bytes: ...


@dataclass(frozen=True)
class LocalMasterKey:
    """AES-256-GCM key wrapping with the data key's id as associated data."""

    id: str
    key: bytes = field(repr=False)
    development: bool = False

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ConfigurationError(
                f"master key {self.id!r} must be 32 bytes, got {len(self.key)}"
            )

    def wrap(self, data_key: bytes, *, key_id: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.key).encrypt(
            nonce, data_key, b"recoup-data-key:" + key_id.encode()
        )

    def unwrap(self, wrapped: bytes, *, key_id: str) -> bytes:
        try:
            return AESGCM(self.key).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"recoup-data-key:" + key_id.encode()
            )
        except Exception as exc:
            raise DecryptionError(
                f"data key {key_id!r} does not unwrap under master key {self.id!r}"
            ) from exc

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "key": base64.b64encode(self.key).decode(),
                "development": self.development,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> LocalMasterKey:
        try:
            data = json.loads(text)
            if "keys" in data:
                raise ConfigurationError(
                    f"{source} is a keyring from before envelope encryption; move it aside and run "
                    "`recoup init` to create a master key (development data cannot be carried over)"
                )
            key = base64.b64decode(data["key"], validate=True)
            return cls(id=str(data["id"]), key=key, development=bool(data.get("development")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{source}: not a valid master key ({exc})") from exc

    @classmethod
    def generate(cls, *, development: bool) -> LocalMasterKey:
        return cls(
            id="m" + secrets.token_hex(4),
            key=AESGCM.generate_key(bit_length=256),
            development=development,
        )


def new_data_key() -> tuple[str, bytes]:
    return "k" + secrets.token_hex(6), AESGCM.generate_key(bit_length=256)


class SealingParts(NamedTuple):
    """A keyring's active key and index key (`Keyring.sealing_parts`)."""

    active: str
    key: bytes
    index_key: bytes | None
    development: bool


@dataclass(frozen=True)
class Keyring:
    active: str
    keys: dict[str, bytes]
    development: bool = False
    index_key: bytes | None = field(default=None, repr=False)
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)
    _pads: dict[bytes, tuple[Any, Any]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise ConfigurationError(f"active key id {self.active!r} is not in the keyring")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise ConfigurationError(f"key {kid!r} must be 32 bytes, got {len(key)}")
            if not 0 < len(kid.encode()) < 256:
                raise ConfigurationError(f"key id {kid!r} must be 1 to 255 bytes")
            self._ciphers[kid] = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        kid = self.active.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active].encrypt(nonce, plaintext, context)
        return bytes((FORMAT_VERSION, len(kid))) + kid + nonce + sealed

    def seal_many(self, plaintexts: Sequence[bytes], context: bytes) -> list[bytes]:
        """`seal` for a batch, with the nonces drawn in one call to the OS's generator: a call
        each costs more than the sealing itself when threads compete for the interpreter."""
        kid = self.active.encode()
        head = bytes((FORMAT_VERSION, len(kid))) + kid
        cipher = self._ciphers[self.active]
        nonces = os.urandom(NONCE_BYTES * len(plaintexts))
        out = []
        for i, plaintext in enumerate(plaintexts):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            out.append(head + nonce + cipher.encrypt(nonce, plaintext, context))
        return out

    def open(self, blob: bytes, context: bytes) -> bytes:
        if len(blob) < 2 or blob[0] != FORMAT_VERSION:
            raise DecryptionError("unknown ciphertext format")
        kid_len = blob[1]
        kid = blob[2 : 2 + kid_len].decode()
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownKey(f"ciphertext sealed under unknown key id {kid!r}")
        start = 2 + kid_len
        nonce, sealed = blob[start : start + NONCE_BYTES], blob[start + NONCE_BYTES :]
        try:
            return cipher.decrypt(nonce, sealed, context)
        except Exception as exc:
            raise DecryptionError("ciphertext does not open under its key") from exc

    def sealing_parts(self) -> SealingParts:
        """What a process that only seals new values and computes blind indexes needs (a file
        import's worker, `ingest.customers`): the active key and the index key, no older key."""
        return SealingParts(self.active, self.keys[self.active], self.index_key, self.development)

    @classmethod
    def for_sealing(cls, parts: SealingParts) -> Keyring:
        return cls(
            active=parts.active,
            keys={parts.active: parts.key},
            development=parts.development,
            index_key=parts.index_key,
        )

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        return blob[2 : 2 + blob[1]].decode()

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active,
                "development": self.development,
                "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> Keyring:
        try:
            data = json.loads(text)
            keys = {k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            return cls(active=data["active"], keys=keys, development=bool(data.get("development")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{source}: not a valid keyring ({exc})") from exc

    @classmethod
    def generate(cls, *, development: bool) -> Keyring:
        kid, key = new_data_key()
        return cls(
            active=kid,
            keys={kid: key},
            development=development,
            index_key=AESGCM.generate_key(bit_length=256),
        )

    def blind_index(self, kind: str, normalised: str) -> str:
        """HMAC-SHA256 of a normalised value, per kind: equal inputs give equal indexes, and the
        index says nothing about the value without the index key."""
        if self.index_key is None:
            raise ConfigurationError("no index key installed; run `recoup init`")
        inner, outer = self._index_pads(self.index_key)
        # HMAC (RFC 2104) from the key's two padded SHA-256 states, hashed once per keyring and
        # copied per value: the same digest as `hmac.new(...)`, at a third of its cost (an import
        # indexes three values per customer).
        h = inner.copy()
        h.update(kind.encode() + b"\x00" + normalised.encode())
        o = outer.copy()
        o.update(h.digest())
        digest: str = o.hexdigest()
        return digest

    def _index_pads(self, key: bytes) -> tuple[Any, Any]:
        pads = self._pads.get(key)
        if pads is None:
            block = (key if len(key) <= 64 else hashlib.sha256(key).digest()).ljust(64, b"\x00")
            pads = self._pads[key] = (
                hashlib.sha256(bytes(b ^ 0x36 for b in block)),
                hashlib.sha256(bytes(b ^ 0x5C for b in block)),
            )
        return pads


def load_master_key_file(path: Path) -> LocalMasterKey:
    return LocalMasterKey.from_json(path.read_text(encoding="utf-8"), source=str(path))


def write_master_key_file(path: Path, master: LocalMasterKey) -> None:
    """Write a master key readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(master.to_json())


REFRESH_SECONDS = 5.0


@dataclass
class _State:
    keyring: Keyring | None = None
    source: Callable[[], Keyring] | None = None
    loaded_at: float = 0.0


_state = _State()
_install_lock = threading.Lock()


def install_keyring(keyring: Keyring) -> None:
    """A fixed keyring (tests, tools): never reloaded."""
    with _install_lock:
        replaced = _state.source
        _state.keyring, _state.source, _state.loaded_at = keyring, None, time.monotonic()
    _close(replaced)


def install_key_source(source: Callable[[], Keyring]) -> None:
    """Where to load the keyring from (the database, through the master key), lazily and again
    every REFRESH_SECONDS so that rotations elsewhere reach this process. The source it replaces
    is closed if it can be (a database source holds a connection pool of its own)."""
    with _install_lock:
        replaced = _state.source
        _state.keyring, _state.source, _state.loaded_at = None, source, 0.0
    if replaced is not source:
        _close(replaced)


def _close(source: Callable[[], Keyring] | None) -> None:
    close = getattr(source, "close", None)
    if callable(close):
        close()


def has_key_source() -> bool:
    return _state.source is not None


def reload_keyring() -> Keyring:
    with _install_lock:
        if _state.source is None:
            if _state.keyring is None:
                raise ConfigurationError(
                    "no encryption keyring installed; run `recoup init` or configure keys"
                )
            return _state.keyring
        _state.keyring, _state.loaded_at = _state.source(), time.monotonic()
        return _state.keyring


def installed_keyring() -> Keyring:
    keyring = _state.keyring
    stale = _state.source is not None and time.monotonic() - _state.loaded_at > REFRESH_SECONDS
    if keyring is None or stale:
        return reload_keyring()
    return keyring


def open_value(blob: bytes, context: bytes) -> bytes:
    """Open a sealed value; a key this process has not seen yet makes it reload the keyring once."""
    try:
        return installed_keyring().open(blob, context)
    except UnknownKey:
        if _state.source is None:
            raise
        return reload_keyring().open(blob, context)


def blind_index(kind: str, normalised: str) -> str:
    return installed_keyring().blind_index(kind, normalised)


class EncryptedString(TypeDecorator[str]):
    """A text column stored as AES-GCM ciphertext bound to `context`. Never queryable by value."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context
        self._aad = context.encode()

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{self.context} takes a str, got {type(value).__name__}")
        return installed_keyring().seal(value.encode(), self._aad)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return open_value(bytes(value), self._aad).decode()

    def seal(self, value: str) -> bytes:
        """Seal outside the ORM, for bulk COPY paths that bypass bind processing."""
        return installed_keyring().seal(value.encode(), self._aad)

    def seal_many(self, values: Sequence[str | None]) -> list[bytes | None]:
        """`seal` for a batch (None stays None)."""
        present = [v for v in values if v is not None]
        sealed = iter(installed_keyring().seal_many([v.encode() for v in present], self._aad))
        return [None if v is None else next(sealed) for v in values]
