"""The blind index is HMAC-SHA256 exactly, however it is computed."""

from __future__ import annotations

import hashlib
import hmac

from recoup.kit.crypto import Keyring, new_data_key


class TestBlindIndex:
    def test_equals_the_standard_hmac(self) -> None:
        """Catches a change to the padded-state shortcut in `Keyring.blind_index` (wrong pad,
        key not padded, the kind separator dropped): every stored index would stop matching."""
        kid, key = new_data_key()
        for index_key in (bytes(range(32)), b"k" * 64, b"long" * 40, b"\x00\xff" * 7):
            ring = Keyring(active=kid, keys={kid: key}, index_key=index_key)
            for kind, value in [("phone", "+8613800000000"), ("email", "a@b.cn"), ("id", "")]:
                expected = hmac.new(
                    index_key, kind.encode() + b"\x00" + value.encode(), hashlib.sha256
                ).hexdigest()
                assert ring.blind_index(kind, value) == expected
                assert ring.blind_index(kind, value) == expected  # the cached pads reused
