"""A source's stream state, stored in the same transaction as the rows it covers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Cursor, utcnow

if TYPE_CHECKING:
    from hub.core.results import CursorUpdate


def save_cursor(session: Session, workspace_id: int, cursor: CursorUpdate) -> None:
    row = session.scalar(
        select(Cursor).where(
            Cursor.connection_id == cursor.connection_id, Cursor.stream == cursor.stream
        )
    )
    if row is None:
        session.add(
            Cursor(
                workspace_id=workspace_id,
                connection_id=cursor.connection_id,
                stream=cursor.stream,
                state=cursor.state,
            )
        )
    else:
        row.state = dict(cursor.state)
        row.updated_at = utcnow()
