"""RQ jobs for worker tests, importable by a `hub worker` (PYTHONPATH is the repository)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text


def probe_session(statements: int = 6) -> dict[str, Any]:
    """Like every hub job: the app context of ``hub.jobs.context``, the session, one statement
    run often enough for psycopg to prepare it server-side (its threshold is 5); reports
    whether the job's session started inside a transaction it did not open."""
    from hub.extensions import db
    from hub.jobs.context import app_context

    with app_context():
        inherited = db.session().in_transaction()
        for _ in range(statements):
            db.session.execute(text("SELECT count(*) FROM workspaces WHERE id > :x"), {"x": 0})
        db.session.commit()
        db.session.remove()
    return {"inherited_transaction": inherited}
