"""SQL plumbing of the loaders: the engine, the workspace, filters bound as the columns store
them, and reading rows into frames in chunks."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import pandas as pd
from sqlalchemy import Engine, bindparam, create_engine, text

from hub.analytics.frames import AnalyticsError

CHUNK = 100_000


def resolve_engine(engine: Engine | str | None = None) -> Engine:
    """An explicit engine or URL; else the current Flask app's; else ``HUB_DATABASE_URL``."""
    if isinstance(engine, Engine):
        return engine
    if isinstance(engine, str):
        return create_engine(engine)
    from flask import has_app_context

    if has_app_context():
        from hub.extensions import db

        return db.engine
    url = os.environ.get("HUB_DATABASE_URL")
    if not url:
        raise AnalyticsError("no database: pass engine=, run in the app, or set HUB_DATABASE_URL")
    return create_engine(url)


def workspace_id(workspace: Any, engine: Engine) -> int:
    """A Workspace, its id, or its slug -> the id (an unknown slug is an error)."""
    if hasattr(workspace, "id"):
        return int(workspace.id)
    if isinstance(workspace, int) or (
        isinstance(workspace, str) and workspace.isascii() and workspace.isdigit()
    ):
        return int(workspace)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT id FROM workspaces WHERE slug = :s"), {"s": workspace}
        ).scalar()
    if found is None:
        raise AnalyticsError(f"workspace {workspace!r} not found")
    return int(found)


def workspace_zone(workspace: Any, engine: Engine) -> str:
    """The workspace's IANA time zone name (days, weeks and months are its calendar's)."""
    from hub.core.zones import DEFAULT_ZONE

    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT time_zone FROM workspaces WHERE id = :ws"),
            {"ws": workspace_id(workspace, engine)},
        ).scalar()
    return found or DEFAULT_ZONE


def bound(value: Any, dialect: str, tz: str | None = None) -> Any:
    """A bound as the column stores it: naive UTC text on SQLite, an aware datetime elsewhere.
    A bound without a zone ("2024-05-01") is a wall time of ``tz`` (UTC when None)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:  # a midnight skipped by a DST change starts when the clock resumes
        ts = ts.tz_localize(tz or UTC, nonexistent="shift_forward", ambiguous=True)
    ts = ts.tz_convert(UTC)
    if dialect == "sqlite":
        return ts.strftime("%Y-%m-%d %H:%M:%S.%f")
    return ts.to_pydatetime()


def query(
    table: str, time_col: str, sql: str, bounds: tuple, dialect: str, tz: str | None = None
) -> Any:
    """Append the workspace/time/source filters to ``sql`` (which may end in a WHERE clause
    already, marked by ``{where}``) and bind them (bounds without a zone are in ``tz``)."""
    start, end, sources = bounds
    # Without a time bound the whole workspace is read: a plain scan beats walking an index
    # and fetching every row by id (the unary + keeps SQLite off the index; PostgreSQL plans
    # as it likes).
    scan = "+" if start is None and end is None else ""
    where = [f"{scan}{table}.workspace_id = :ws"]
    params: dict[str, Any] = {}
    binds = []
    if start is not None:
        where.append(f"{table}.{time_col} >= :start")
        params["start"] = bound(start, dialect, tz)
    if end is not None:
        where.append(f"{table}.{time_col} < :end")
        params["end"] = bound(end, dialect, tz)
    if sources:
        where.append(f"{table}.source IN :sources")
        params["sources"] = list(sources)
        binds.append(bindparam("sources", expanding=True))
    stmt = text(sql.format(where=" AND ".join(where))).bindparams(*binds)
    return stmt, params


def read(engine: Engine, stmt: Any, params: dict, columns: Sequence[str]) -> pd.DataFrame:
    """The rows as a frame, fetched ``CHUNK`` at a time.

    Only through the process's one SQLite library (the stdlib's ``sqlite3``, which the engine's
    pool uses too): a second copy of SQLite in a process that writes (ADBC's driver carried
    one) deletes the WAL under the other library's connections when it closes, and every later
    commit of the process then goes into the deleted file (issue 20.1). On SQLite the rows come
    straight off the pooled DB-API cursor, without SQLAlchemy's per-row processing."""
    if engine.dialect.name == "sqlite":
        return read_dbapi(engine, stmt, params, columns)
    frames = []
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(stmt, params)
        # Through the result, not its DB-API cursor: with a server-side cursor SQLAlchemy has
        # already buffered the first rows.
        for rows in result.partitions(CHUNK):
            frames.append(pd.DataFrame.from_records(rows, columns=list(columns)))
    return frames_or_empty(frames, columns)


def read_dbapi(engine: Engine, stmt: Any, params: dict, columns: Sequence[str]) -> pd.DataFrame:
    """The statement compiled once and run on a pooled DB-API connection of ``engine``."""
    compiled = stmt.bindparams(**params).compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    values = [compiled.params[name] for name in compiled.positiontup or []]
    frames = []
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        try:
            cur.execute(str(compiled), values)
            while rows := cur.fetchmany(CHUNK):
                frames.append(pd.DataFrame.from_records(rows, columns=list(columns)))
        finally:
            cur.close()
    finally:
        conn.close()
    return frames_or_empty(frames, columns)


def frames_or_empty(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def times(values: pd.Series, tz: str | None) -> pd.Series:
    out = pd.to_datetime(values, utc=True, format="ISO8601")
    return out.dt.tz_convert(tz) if tz else out


def money(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values).fillna(0).astype(float) / 100
