"""The webhook inbox: the intake's hand-off in the web process (``intake``) and the worker's
processing of stored deliveries (``processing``). The push itself is received by
``hub.web.webhooks``."""
