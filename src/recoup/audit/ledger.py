"""The audit ledger's mathematics, pure: canonical JSON, the hash chain, Merkle roots, signatures.

- Entry hash: SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the entry's fields,
  `prev_hash` included. The first entry's `prev_hash` is 64 zeros.
- Merkle root over entry hashes, as RFC 6962 (Certificate Transparency) defines it: leaves are
  SHA-256(0x00 || hash), inner nodes SHA-256(0x01 || left || right), the split at the largest power
  of two smaller than the count.
- Checkpoint statement, signed with Ed25519: canonical JSON of first_seq, last_seq, root, prev_root.
  Anyone holding the public key and the exported checkpoints can check a copy of the ledger.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode()


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not canonical JSON: {type(value).__name__}")


def state_hash(state: Any) -> str | None:
    """Hash of a before/after state (a dict of plain values); the ledger keeps only this."""
    return None if state is None else hashlib.sha256(canonical(state)).hexdigest()


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before_hash: str | None,
    after_hash: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    body = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": [subject_type, subject_id],
        "before": before_hash,
        "after": after_hash,
        "details": details,
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def merkle_root(hashes: Sequence[str]) -> str:
    if not hashes:
        return hashlib.sha256(b"").hexdigest()
    return _node([bytes.fromhex(h) for h in hashes]).hex()


def _node(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hashlib.sha256(b"\x01" + _node(leaves[:split]) + _node(leaves[split:])).digest()


def statement(first_seq: int, last_seq: int, root: str, prev_root: str) -> bytes:
    return canonical(
        {"first_seq": first_seq, "last_seq": last_seq, "root": root, "prev_root": prev_root}
    )


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(private: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(private.sign(message)).decode()


def signature_valid(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
