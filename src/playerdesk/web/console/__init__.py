"""The agent console: server-rendered pages."""

from playerdesk.web.console.routes import router

__all__ = ["router"]
