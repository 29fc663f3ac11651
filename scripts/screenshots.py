#!/usr/bin/env python3
"""The README's screenshots, from the demo data in a temporary folder: `hub demo` (sandboxes,
a worker, synced stores, the sample imports) on a free port, then Debian's Chromium driven by
Playwright (as tests/e2e/conftest.py launches it, never a downloaded browser) saves

    docs/screenshots/store.png          a store page (its push URL, its syncs)
    docs/screenshots/customer-zh.png    a customer page in Chinese (Accept-Language zh-CN)
    docs/screenshots/dashboard-empty.png  the dashboard of a workspace with no orders yet

Usage: .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--orders 120]
Chinese text needs a CJK font (Debian's fonts-noto-cjk): installed here when missing and root.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

EMPTY_EMAIL, EMPTY_PASSWORD = "new-shop@example.com", "screenshots only"
VIEWPORT = {"width": 1360, "height": 860}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo(directory: Path, port: int, orders: int) -> Iterator[dict[str, str]]:
    """`hub demo` serving on ``port``; yields its login ({"url", "email", "password"})."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    log = (directory / "demo.log").open("wb")
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/hub"),
            "demo",
            "--json",
            "--dir",
            str(directory / "data"),
            "--port",
            str(port),
            "--orders",
            str(orders),
        ],  # fmt: skip
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the login, printed once the stores are bound
        if not line:
            raise SystemExit(f"hub demo stopped:\n{(directory / 'demo.log').read_text()}")
        yield json.loads(line)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the demo stops its worker and redis
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def prepare(data_dir: Path, timeout: float = 300) -> None:
    """Wait for the demo's syncs to finish; add an empty workspace with its own admin."""
    from hub.demo.environment import demo_app
    from hub.extensions import db
    from hub.models import SyncRun
    from hub.services import users

    os.environ.pop("HUB_DATABASE_URL", None)
    app = demo_app(str(data_dir))
    with app.app_context():
        deadline = time.monotonic() + timeout
        while db.session.scalar(
            db.select(db.func.count()).where(SyncRun.status.in_(SyncRun.ACTIVE))
        ):
            if time.monotonic() > deadline:
                raise SystemExit(f"the demo's syncs did not finish in {timeout:g}s")
            time.sleep(1)
            db.session.expire_all()
        ws = users.create_workspace("New Shop", "new-shop")
        users.create_user(EMPTY_EMAIL, EMPTY_PASSWORD, ws)
        db.session.remove()


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click(".login form:not(.language) button[type=submit]")
    page.wait_for_url(re.compile(r"/stores$"))


def shoot(base: str, login: dict[str, str], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            english = browser.new_context(viewport=VIEWPORT, locale="en-US")
            page = english.new_page()
            sign_in(page, base, login["email"], login["password"])
            page.click("table a[href^='/stores/']")
            page.wait_for_load_state("networkidle")
            saved.append(_save(page, out / "store.png"))
            english.close()

            chinese = browser.new_context(
                viewport=VIEWPORT, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"}
            )
            page = chinese.new_page()
            sign_in(page, base, login["email"], login["password"])
            page.goto(base + "/customers")
            page.click("table a[href^='/customers/']")
            page.wait_for_selector("[data-test=timeline]")
            saved.append(_save(page, out / "customer-zh.png"))
            chinese.close()

            empty = browser.new_context(viewport=VIEWPORT, locale="en-US")
            page = empty.new_page()
            sign_in(page, base, EMPTY_EMAIL, EMPTY_PASSWORD)
            page.goto(base + "/dashboard")
            page.wait_for_load_state("networkidle")
            saved.append(_save(page, out / "dashboard-empty.png"))
            empty.close()
        finally:
            browser.close()
    return saved


def _save(page, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=True)
    return path


def ensure_cjk_font() -> None:
    """Chromium draws Chinese as empty boxes without a CJK font: install Noto CJK if needed."""
    if subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        return
    if os.geteuid() != 0:
        raise SystemExit("no Chinese font: sudo apt-get install -y fonts-noto-cjk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "fonts-noto-cjk"]
    subprocess.run(install, check=True, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--orders", type=int, default=120, help="orders per demo sandbox")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    ensure_cjk_font()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hub-screenshots-") as tmp:
        work = Path(tmp)
        port = free_port()
        with demo(work, port, args.orders) as login:
            prepare(work / "data")
            for path in shoot(f"http://127.0.0.1:{port}", login, args.out.resolve()):
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
