"""The public help centre: the contact and feedback forms players send without signing in."""

from playerdesk.web.helpcenter.routes import FORM_PATHS, request_limit, router

__all__ = ["FORM_PATHS", "request_limit", "router"]
