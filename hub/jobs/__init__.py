"""The worker side: the named queues, the worker process and its maintenance thread (the
schedule, stale runs, stranded deliveries), the app context every job runs in, and a run's
heartbeat. The jobs themselves live with what they do (``hub.sync.jobs``,
``hub.inbox.processing``, ``hub.imports.jobs``)."""
