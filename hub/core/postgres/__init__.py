"""The PostgreSQL backend of the ingest's set-based helpers (``hub.core.store.sql``).

Every helper costs one statement whatever the number of rows: rows travel as one array
parameter per column (psycopg dumps a list in binary, in C) and the statement unnests them:
``INSERT ... SELECT ... FROM unnest(...)``, ``UPDATE ... FROM unnest(...)``, reads by
``key = ANY(array)``. New rows' ids are drawn from the table's sequence first, in one
statement, so that an insert needs no ``RETURNING`` and its rows' order does not matter.

Nothing here opens a transaction of its own: the statements run on the session's connection,
inside its transaction, on the driver's cursor (SQLAlchemy's per-row parameter machinery cost
more than PostgreSQL's work on the rows). Plain inserts go as one binary COPY each
(``copy``); inside ``write_behind`` the writes run on a second thread while the batch plans
its next chunk (``behind``), and a batch that starts a transaction reads its buyers' owners and
draws new ids over a connection of its own (``side``), so planning never waits for them.
"""

from hub.core.postgres.behind import write_behind
from hub.core.postgres.reads import count_by, fetch_by
from hub.core.postgres.writes import insert_returning_ids, insert_rows, new_ids, update_many

__all__ = [
    "count_by",
    "fetch_by",
    "insert_returning_ids",
    "insert_rows",
    "new_ids",
    "update_many",
    "write_behind",
]
