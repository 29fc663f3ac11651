"""The domain core: every source's records end in ``hub.core.ingest.apply``.

- ``records``, ``normalise``, ``errors``, ``formulas``: the canonical records and their rules;
- ``plan/``: planning in memory (identity resolution, order and event planning, event
  settings, the row sets they produce); it reads nothing itself;
- ``store/``: the portable SQLAlchemy store (PostgreSQL and SQLite) that reads what planning
  needs and writes its row sets, with PostgreSQL's set-based statements in ``postgres/``;
- ``sqlite/``: the SQLite fast path (driver-level statements, write-behind thread, snapshot
  reader, WAL checkpoints);
- ``batch``, ``ingest``, ``results``, ``scope``: one batch through planning and the store, the
  entry point, its options and report, and the process-wide state scoped to a batch;
- ``merge``: the merge ledger (X4).
"""
