"""Platform simulators: found generically through each connector's ``sandbox_module``."""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from hub import config, registry
from hub.connectors import Connector
from hub.core.errors import NotFound


@dataclass
class RunningSandbox:
    """A simulator served by werkzeug in a daemon thread on 127.0.0.1."""

    platform: str
    module: ModuleType
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def bind_config(self) -> dict[str, Any]:
        """Bind settings pointing at this running sandbox."""
        return dict(self.module.demo_bind_config(self.base_url))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class QuietHandler(WSGIRequestHandler):
    """No access log: sandbox URLs carry access tokens in their query strings."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def module_of(cls: type[Connector]) -> ModuleType | None:
    """The connector's simulator module, or None when it has none."""
    return importlib.import_module(cls.sandbox_module) if cls.sandbox_module else None


def with_sandbox(connectors: dict[str, type[Connector]]) -> list[type[Connector]]:
    """Registered connectors that ship a simulator, in platform order."""
    return [cls for _, cls in sorted(connectors.items()) if cls.sandbox_module]


def sandbox_app(platform: str, seed: int, orders: int) -> Flask:
    """The simulator app of PLATFORM, from the configured connector list (no hub app needed)."""
    names = config.from_environment().get("CONNECTORS", config.DEFAULT_CONNECTORS)
    connectors = registry.load(names)
    if platform not in connectors:
        known = ", ".join(sorted(connectors)) or "none"
        raise NotFound(f"unknown platform {platform!r} (registered: {known})")
    module = module_of(connectors[platform])
    if module is None:
        raise NotFound(f"platform {platform!r} has no sandbox")
    return module.create_app(seed, orders)


def start(cls: type[Connector], seed: int, orders: int, epoch: int | None = None) -> RunningSandbox:
    """Serve the connector's simulator on a free loopback port, in a daemon thread. The same
    seed, orders and epoch serve the same shop, so a demo run again replays rather than adds."""
    module = module_of(cls)
    if module is None:
        raise NotFound(f"platform {cls.platform!r} has no sandbox")
    server = make_server(
        "127.0.0.1",
        0,
        module.create_app(seed, orders, epoch=epoch),
        threaded=True,
        request_handler=QuietHandler,
    )
    thread = threading.Thread(
        target=server.serve_forever, name=f"sandbox-{cls.platform}", daemon=True
    )
    thread.start()
    return RunningSandbox(cls.platform, module, server, thread)
