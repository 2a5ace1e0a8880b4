"""Settings with Twilio configured (its token signs the inbound webhook the assistant answers)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recoup.config import Settings
from tests.contact.test_replies import OUR_NUMBER, SID, TOKEN


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    path = tmp_path / "channels.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sms": {
                    "provider": "twilio",
                    "account_sid": SID,
                    "auth_token": TOKEN,
                    "from_number": OUR_NUMBER,
                }
            }
        ),
        encoding="utf-8",
    )
    return settings.model_copy(update={"channels_file": path, "spool_dir": tmp_path / "spool"})
