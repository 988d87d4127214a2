"""ASGI entry point: ``uvicorn api.asgi:app`` (settings from ``CAPACITEIT_*``)."""

from capaciteit.service import create_app

app = create_app()
