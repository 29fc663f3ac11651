"""Application services: the operations the UI, the API and the CLI share.

Each function takes plain values (ids, dicts), scopes every query to a workspace and raises
the typed errors of ``hub.core.errors``; none of them reads a Flask request.
"""
