"""ASGI entry point for uvicorn: `recoup serve` or `uvicorn recoup.api.main:app`."""

from recoup.api.app import create_app

app = create_app()
