"""The JSON API under /api/v1 (Bearer tokens). Errors are ``{"error": {"code", "message"}}``.

``bp`` lives in ``api_base``; importing the route modules here attaches their routes to it.
"""

from __future__ import annotations

from hub.web import (  # noqa: F401
    api_connections,
    api_customers,
    api_deals,  # noqa: F401
    api_events,
    api_orders,
    api_segments,
    api_webhook_deliveries,
    api_workspace,
)
from hub.web.api_base import bp

__all__ = ["bp"]
