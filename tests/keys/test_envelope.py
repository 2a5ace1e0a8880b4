"""Envelope encryption and blind indexes: what is stored, what a wrong key does, how lookups work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, LargeBinary, create_engine, select, type_coerce
from sqlalchemy.orm import Session

from recoup.keys import service as keys_service
from recoup.kit import crypto
from recoup.kit.clock import SettableClock
from recoup.kit.errors import ConfigurationError
from recoup.ledger import service as ledger_service
from recoup.models import Customer, CustomerPhone, EncryptionKey
from tests.api.test_ingest_api import CUSTOMER
from tests.conftest import MASTER


class TestMasterKey:
    def test_data_keys_are_stored_wrapped_and_open_only_under_their_master(
        self, session: Session
    ) -> None:
        rows = session.execute(select(EncryptionKey)).scalars().all()
        assert {r.purpose for r in rows} >= {"data", "index"}
        keyring = keys_service.load_keyring(session, MASTER)
        plain = {**keyring.keys}
        for row in rows:
            key = plain.get(row.id) if row.purpose == "data" else keyring.index_key
            assert key is not None
            assert key not in row.wrapped  # never stored in clear
        other = crypto.LocalMasterKey.generate(development=True)
        with pytest.raises(ConfigurationError, match="wrapped by master key"):
            keys_service.load_keyring(session, other)
        impostor = crypto.LocalMasterKey(id=MASTER.id, key=other.key)
        with pytest.raises(crypto.DecryptionError, match="does not unwrap"):
            keys_service.load_keyring(session, impostor)

    def test_rewrap_moves_every_key_under_a_new_master(
        self, session: Session, clock: SettableClock
    ) -> None:
        before = keys_service.load_keyring(session, MASTER)
        new = crypto.LocalMasterKey.generate(development=True)
        assert keys_service.rewrap(session, MASTER, new, actor="test", clock=clock) >= 2
        after = keys_service.load_keyring(session, new)
        assert (after.active, after.keys, after.index_key) == (
            before.active,
            before.keys,
            before.index_key,
        )
        with pytest.raises(ConfigurationError):
            keys_service.load_keyring(session, MASTER)

    def test_a_keyring_file_from_before_envelope_encryption_is_explained(
        self, tmp_path: Path
    ) -> None:
        old = tmp_path / "keys.json"
        old.write_text(json.dumps({"active": "k1", "keys": {"k1": "AAAA"}}))
        with pytest.raises(ConfigurationError, match="before envelope encryption"):
            crypto.load_master_key_file(old)

    def test_a_master_key_file_is_private_to_its_owner(self, tmp_path: Path) -> None:
        path = tmp_path / "master.json"
        crypto.write_master_key_file(path, crypto.LocalMasterKey.generate(development=True))
        assert path.stat().st_mode & 0o077 == 0
        assert crypto.load_master_key_file(path).development


class TestSealedValues:
    def test_values_name_their_key_and_do_not_open_in_another_column(
        self, session: Session
    ) -> None:
        keyring = crypto.installed_keyring()
        sealed = keyring.seal(b"13812345678", b"customer_phones.number")
        assert crypto.Keyring.key_id_of(sealed) == keyring.active
        assert b"13812345678" not in sealed
        with pytest.raises(crypto.DecryptionError):
            keyring.open(sealed, b"customers.name")

    def test_a_batch_is_sealed_as_each_value_alone_with_a_nonce_of_its_own(self) -> None:
        column = crypto.EncryptedString("contact_messages.body")
        values = ["第一条", None, "second", "second"]
        sealed = column.seal_many(values)
        assert sealed[1] is None
        blobs = [b for b in sealed if b is not None]
        assert [crypto.open_value(b, b"contact_messages.body").decode() for b in blobs] == [
            "第一条",
            "second",
            "second",
        ]
        keyring = crypto.installed_keyring()
        assert {crypto.Keyring.key_id_of(b) for b in blobs} == {keyring.active}
        start = 2 + len(keyring.active)
        assert len({b[start : start + crypto.NONCE_BYTES] for b in blobs}) == 3
        assert blobs[1] != blobs[2]

    def test_a_process_learns_a_new_key_when_it_meets_one(self) -> None:
        old = crypto.installed_keyring()
        newer = crypto.Keyring.generate(development=True)
        merged = crypto.Keyring(
            active=newer.active, keys={**old.keys, **newer.keys}, index_key=old.index_key
        )
        sealed = newer.seal(b"value", b"ctx")
        loads = []

        def source() -> crypto.Keyring:
            loads.append(1)
            return merged

        crypto.install_keyring(old)
        with pytest.raises(crypto.UnknownKey):
            crypto.open_value(sealed, b"ctx")  # a fixed keyring cannot learn
        try:
            crypto.install_key_source(source)
            crypto.installed_keyring()
            assert crypto.open_value(sealed, b"ctx") == b"value"
            assert loads  # loaded lazily, again on the unknown key id
        finally:
            crypto.install_keyring(old)


class TestBlindIndexes:
    def test_phones_emails_and_ids_are_found_without_decrypting(
        self, client: TestClient, session: Session
    ) -> None:
        assert client.post("/v1/customers", json=CUSTOMER).status_code == 201
        other = {
            **CUSTOMER,
            "external_ref": "u-other",
            "phones": [{"number": "13900001111"}],
            "emails": [],
            "national_id": None,
        }
        assert client.post("/v1/customers", json=other).status_code == 201
        for query in (
            {"phone": "+8613812345678"},
            {"email": "li.na@example.com"},
            {"email": "LI.NA@EXAMPLE.COM"},
            {"national_id": "440305 19920315 1234"},
        ):
            found = client.get("/v1/customers", params=query)
            assert found.status_code == 200, found.text
            assert [c["external_ref"] for c in found.json()["items"]] == ["u-api-1"], query
        assert client.get("/v1/customers", params={"phone": "+8613700000000"}).json()["total"] == 0
        bad = client.get("/v1/customers", params={"phone": "not a number"})
        assert bad.status_code == 422
        assert "E.164" in bad.json()["message"]

    def test_the_index_is_a_keyed_hash_not_the_value(
        self, client: TestClient, session: Session
    ) -> None:
        assert client.post("/v1/customers", json=CUSTOMER).status_code == 201
        phone = session.execute(select(CustomerPhone)).scalars().first()
        assert phone is not None
        assert phone.number_index is not None
        assert "13812345678" not in phone.number_index
        assert len(phone.number_index) == 64
        other_ring = crypto.Keyring.generate(development=True)
        assert other_ring.blind_index("phone", "+8613812345678") != phone.number_index
        raw = session.execute(
            select(type_coerce(Customer.name, LargeBinary())).where(
                Customer.external_ref == "u-api-1"
            )
        ).scalar_one()
        assert "李娜".encode() not in raw

    def test_init_backfills_indexes_rows_lack(self, client: TestClient, session: Session) -> None:
        assert client.post("/v1/customers", json=CUSTOMER).status_code == 201
        phone = session.execute(select(CustomerPhone)).scalars().first()
        assert phone is not None
        expected = phone.number_index
        session.execute(CustomerPhone.__table__.update().values(number_index=None))
        session.expire_all()
        assert ledger_service.backfill_indexes(session) >= 1
        assert session.get(CustomerPhone, phone.id).number_index == expected  # type: ignore[union-attr]


class TestKeyringUnderLoad:
    def test_the_keyring_loads_while_every_pooled_connection_is_taken(self, engine: Engine) -> None:
        """A request holds the pool's only connection, in a transaction (on SQLite, the write
        lock), and meets a stale keyring: the reload must not wait for the requests' pool. Catches
        `keys.service.key_source` loading through the engine it was given: the load then waits for
        a connection that the busy requests hold until the pool's timeout (under load, every
        request stalled 30 s and some failed with 500: `benchmarks/bench_api_load.py`)."""
        narrow = create_engine(
            engine.url.render_as_string(hide_password=False),
            pool_size=1,
            max_overflow=0,
            pool_timeout=1,
        )
        try:
            with narrow.connect() as held, held.begin():
                ring = keys_service.key_source(narrow, MASTER)()
                assert ring.keys
        finally:
            narrow.dispose()

    def test_a_replaced_source_gives_its_pool_back(self, engine: Engine) -> None:
        """Each app or command installs a database key source, which makes a pool of its own at
        its first load. Catches `crypto.install_key_source` (or `install_keyring`) no longer
        closing the source it replaces: every app built in a process then left a pool of open
        connections behind (hundreds over the test suite, each a PostgreSQL backend)."""
        if engine.url.database in (None, "", ":memory:"):
            pytest.skip("an in-memory database has no pool of its own to give back")
        kept = crypto.installed_keyring()
        first = keys_service.key_source(engine, MASTER)
        second = keys_service.key_source(engine, MASTER)
        try:
            crypto.install_key_source(first)
            assert crypto.reload_keyring().keys
            loader = first.loader
            assert loader is not None
            assert loader.pool.checkedin() == 1  # a connection kept
            crypto.install_key_source(second)
            assert first.loader is None
            assert loader.pool.checkedin() == 0  # disposed: its connection closed
            assert crypto.reload_keyring().keys
            assert second.loader is not None
        finally:
            crypto.install_keyring(kept)
        assert second.loader is None  # a fixed keyring replacing a source closes it too
