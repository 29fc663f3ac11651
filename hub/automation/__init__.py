"""Automation on the one event stream the core writes (issue 25, A1, A2, S7).

- ``conditions``: the condition vocabulary shared by rules' conditions and segments' filters,
  validated (errors name the path, e.g. ``filter.any[0].op``) and compiled to SQLAlchemy Core
  booleans, one SQL query per question, on SQLite and PostgreSQL alike.
- ``segments``: saved customer filters (A2): their members, counts, CSV and static groups.
- ``rules`` / ``triggers``: the rules engine; ``outbox``: outbound webhooks.
"""
