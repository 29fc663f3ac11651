"""Alias for RQ jobs queued by the previous release under these dotted paths (a delivery's
``process_delivery`` with its retries, a ``drain_announced``): they now live in
``hub.inbox.processing``. Remove once no worker can find such a job in Redis."""

from hub.inbox.processing import drain_announced, process_delivery

__all__ = ["drain_announced", "process_delivery"]
