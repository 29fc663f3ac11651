"""Spreadsheet imports, the hub side: start/dry-run/history (service), the RQ job (jobs),
database pre-checks (precheck), the ``hub import`` commands (cli)."""
