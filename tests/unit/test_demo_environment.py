"""The demo's configuration: what it allows beyond the production defaults, and that the
worker it starts sees the same."""

from __future__ import annotations

import pytest

from hub.demo.environment import demo_app, worker_env


def test_a1_the_demo_lets_a_rule_call_a_webhook_on_this_machine(tmp_path, monkeypatch) -> None:
    """Trying "call my webhook" in the demo means a receiver on 127.0.0.1: the demo allows
    private targets (production does not), and its worker does too."""
    monkeypatch.delenv("HUB_WEBHOOK_ALLOW_PRIVATE", raising=False)
    app = demo_app(str(tmp_path))
    assert app.config["WEBHOOK_ALLOW_PRIVATE"] is True
    assert worker_env(app)["HUB_WEBHOOK_ALLOW_PRIVATE"] == "true"


@pytest.mark.parametrize("value", ["false", "0"])
def test_a1_the_demo_keeps_an_explicit_webhook_rule(tmp_path, monkeypatch, value) -> None:
    monkeypatch.setenv("HUB_WEBHOOK_ALLOW_PRIVATE", value)
    app = demo_app(str(tmp_path))
    assert not app.config["WEBHOOK_ALLOW_PRIVATE"]
    assert worker_env(app)["HUB_WEBHOOK_ALLOW_PRIVATE"] == "false"
