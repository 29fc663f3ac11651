"""Delivery of the outbound webhook outbox (placeholder: filled in by the next commit)."""

from __future__ import annotations


def kick() -> None:
    """Queue a delivery job (fast path after an enqueuing commit)."""
