"""Spreadsheet imports, the hub side: start/dry-run/history (service), the RQ job (jobs),
what both look up (lookups), database pre-checks (precheck), the ``hub import`` commands (cli)."""
