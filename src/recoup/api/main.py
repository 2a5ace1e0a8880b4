"""ASGI entry point for uvicorn: `recoup serve` or `uvicorn recoup.api.main:app`."""

from recoup.api.app import create_app
from recoup.config import Settings
from recoup.kit import logging as kit_logging

_settings = Settings()
kit_logging.configure(
    level=min(_settings.log_level.upper(), "INFO", key=kit_logging.level_number),
    stream=_settings.log_file.open("a", encoding="utf-8") if _settings.log_file else None,
)
app = create_app(_settings)
