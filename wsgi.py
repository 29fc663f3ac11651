"""WSGI entry: ``gunicorn wsgi:app`` or ``flask --app wsgi hub ...``."""

from hub import create_app

app = create_app()
