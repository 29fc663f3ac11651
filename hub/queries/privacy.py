"""A workspace's privacy requests (the shops' compliance requests), newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from hub.models import PrivacyRequest
from hub.queries.paging import in_workspace


def requests(workspace_id: int) -> Select[Any]:
    return (
        select(PrivacyRequest)
        .where(PrivacyRequest.workspace_id == workspace_id)
        .order_by(PrivacyRequest.id.desc())
    )


def get(workspace_id: int, request_id: int) -> PrivacyRequest:
    return in_workspace(PrivacyRequest, workspace_id, request_id, "privacy request")
