"""The JSON API under /api/v1 (Bearer tokens). Errors are ``{"error": {"code", "message"}}``.

``bp`` lives in ``api_base``; importing the route modules here attaches their routes to it.
"""

from __future__ import annotations

from hub.web import api_connections, api_customers, api_orders, api_workspace  # noqa: F401
from hub.web.api_base import bp

__all__ = ["bp"]
