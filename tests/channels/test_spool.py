"""The spool as a sink: every delivery is a file of its own (a duplicate is seen, not merged), the
files are private to the worker's user, and a killed worker's half-written messages do not stay."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from recoup.channels import Outgoing, PermanentError
from recoup.channels.spool import SpoolAdapter


def message(key: str = "recoup-contact-7") -> Outgoing:
    return Outgoing(
        idempotency_key=key,
        channel="sms",
        to="+8613800138000",
        body="张伟您好, pay at https://pay.example/p/abc",
    )


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


class TestDeliveries:
    def test_a_second_delivery_of_a_key_is_a_second_file(self, tmp_path: Path) -> None:
        """Catches the removal of the `~n` copies (the old `except FileExistsError: pass`, which
        accepted a second write of the same key silently, so a resend could not be counted)."""
        spool = SpoolAdapter(tmp_path, "sms")
        assert spool.lookup("recoup-contact-7") is None
        spool.send(message())
        spool.send(message())
        names = sorted(p.name for p in (tmp_path / "sms").glob("*.json"))
        assert names == ["recoup-contact-7.json", "recoup-contact-7~2.json"]
        found = spool.lookup("recoup-contact-7")
        assert found is not None
        assert found.provider_id == "recoup-contact-7"

    @pytest.mark.parametrize("key", ["../x", ".hidden", "a~2"])
    def test_a_key_that_is_not_a_file_name_is_refused(self, tmp_path: Path, key: str) -> None:
        with pytest.raises(PermanentError):
            SpoolAdapter(tmp_path, "sms").send(message(key))


class TestPrivacy:
    def test_messages_and_the_directory_are_private(self, tmp_path: Path) -> None:
        """Issue 18 finding 14: catches writing with the process's umask (0644 files) or leaving
        the channel's directory readable by others."""
        old = os.umask(0o022)
        try:
            SpoolAdapter(tmp_path, "sms").send(message())
        finally:
            os.umask(old)
        [path] = (tmp_path / "sms").glob("*.json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "sms").stat().st_mode) == 0o700

    def test_a_killed_workers_temporary_files_are_removed_on_start(self, tmp_path: Path) -> None:
        """Issue 18 finding 14: catches the removal of `_remove_orphans` (a worker killed while
        writing left `.recoup-contact-N.<pid>.<thread>` with a phone number, a name and a pay link
        for ever). A file of a process still running (this one's parent) is left alone."""
        directory = tmp_path / "sms"
        directory.mkdir()
        orphan = directory / f".recoup-contact-9.{dead_pid()}.140000"
        orphan.write_text('{"to": "+8613800138000"}')
        busy = directory / f".recoup-contact-10.{os.getppid()}.140000"
        busy.write_text("{}")
        spool = SpoolAdapter(tmp_path, "sms")
        assert not orphan.exists()
        assert busy.exists()
        assert spool.removed_temporaries == 1
