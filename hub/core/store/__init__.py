"""The portable store (SQLAlchemy; PostgreSQL and SQLite): reads what planning needs and writes
its row sets in a handful of set-based statements. PostgreSQL's statements are
``hub.core.postgres``; SQLite's, with its fast path, ``hub.core.sqlite``."""
