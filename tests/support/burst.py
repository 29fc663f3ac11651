"""RQ's SimpleWorker for the tests that run queued jobs in the test process, in burst mode."""

from __future__ import annotations

from rq import SimpleWorker


class BurstWorker(SimpleWorker):
    """A SimpleWorker without RQ's listener for worker commands (nothing sends a command to a
    worker that lives for one ``work(burst=True)`` in a test). That listener reads with a 60 s
    timeout, and stopping it waits for the read: when the reply to its unsubscribe arrives
    before it is told to stop, redis-py waits the whole 60 s for a new subscription, so a
    loaded machine saw single tests take a minute."""

    def subscribe(self) -> None:
        self.pubsub_thread = None
