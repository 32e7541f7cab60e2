"""neocog studio: the apps and the chapter's teaching tools in the browser.

    neocog studio [--host 127.0.0.1] [--port 8000] [--runs runs/]

    from neocog.apps.studio import create_app   # the ASGI app, for uvicorn or a test client
"""

from .server import StudioConfig, create_app

__all__ = ["StudioConfig", "create_app"]
