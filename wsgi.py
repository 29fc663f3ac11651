"""WSGI entry: ``gunicorn wsgi:app`` or ``flask --app wsgi hub ...``."""

import gc

from hub import create_app

app = create_app()
# Everything built so far lives as long as the process: keep it out of the collector's scans,
# which otherwise show up as tail latency on busy endpoints such as the webhook intake.
gc.freeze()
