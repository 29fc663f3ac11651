"""Serve a platform sandbox app over real HTTP in a background thread (tests, benchmarks),
whatever the platform."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """No access log: request lines would carry the access_token query parameter."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@dataclass
class RunningSandbox:
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve(app: Flask, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Start ``app`` on ``host:port`` (0 = any free port), threaded, and return its handle."""
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"sandbox-{app.name}", daemon=True)
    thread.start()
    return RunningSandbox(app, server, thread)
