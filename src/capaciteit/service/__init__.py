"""The HTTP service: FastAPI over the same pipelines as the command line.

``create_app()`` builds the application; ``api/asgi.py`` exposes it to ASGI servers and
``capaciteit serve`` starts it with uvicorn.
"""

from capaciteit.service.app import create_app

__all__ = ["create_app"]
