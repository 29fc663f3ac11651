"""The `hub demo` and `hub sandbox` commands (registered lazily in hub.cli.PLUGIN_COMMANDS)."""

from __future__ import annotations

import click

from hub.cli_support import hub_command, say


@click.command("sandbox")
@click.argument("platform")
@click.option("--port", type=int, required=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--orders", type=int, default=200, show_default=True)
@hub_command(needs_app=False)
def sandbox(platform: str, port: int, seed: int, orders: int) -> None:
    """Serve a platform simulator on 127.0.0.1:PORT."""
    from werkzeug.serving import run_simple

    from hub.demo.sandboxes import QuietHandler, sandbox_app

    app = sandbox_app(platform, seed, orders)
    say(f"{platform} sandbox on http://127.0.0.1:{port}/ (Ctrl-C to stop)")
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)


@click.command("demo")
@click.option("--once", is_flag=True, help="Headless: sync, print a summary and exit.")
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--dir", "directory", default=None, help="Data directory (default: instance/).")
@click.option("--orders", type=int, default=200, show_default=True, help="Orders per sandbox.")
@click.option("--timeout", type=float, default=600, show_default=True)
@hub_command(needs_app=False)
def demo(once: bool, port: int, directory: str | None, orders: int, timeout: float) -> None:
    """The main job on embedded defaults: sandboxes, a worker, syncs, the web UI."""
    from hub.demo.run import DemoOptions, run_demo

    run_demo(DemoOptions(once=once, port=port, directory=directory, orders=orders, timeout=timeout))
