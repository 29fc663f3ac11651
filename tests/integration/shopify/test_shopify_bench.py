"""bench/sync_shopify.py run tiny: the Shopify sandbox under gunicorn (a real HTTP server
process) paged twice by a bare client, every listing a sync reads, the second pass serving the
records the first one rendered. The hub's passes (bind + sync engine) need the Shopify
connector: the lead's merge adds them to this test."""

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "sync_shopify.py"


def test_bench_sync_shopify_pages_every_listing_of_the_sandbox_alone() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--orders", "300", "--sandbox-only"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    report = out.stdout + out.stderr[-3000:]
    assert out.returncode == 0, report
    assert "a 300-order shop generated and served" in out.stdout, report
    passes = re.findall(r"sandbox alone, (first|second) pass .*?: ([\d,]+) records in (\d+) "
                        r"requests", out.stdout)  # fmt: skip
    assert [p[0] for p in passes] == ["first", "second"], report
    # 300 orders (a few deleted), 100 customers, 10 products, abandoned checkouts, deletions:
    # the same records both times, 250 a page
    records = {int(p[1].replace(",", "")) for p in passes}
    assert len(records) == 1 and records.pop() > 300 + 100, report
    assert {int(p[2]) for p in passes} == {6}, report


def test_bench_sync_shopify_hub_share_beside_the_sandbox_alone_and_429s_survived(
    postgres_url: str | None,
) -> None:
    """The whole benchmark at 300 orders: the hub's passes (bind + sync engine), the replay,
    a throttled pass on a small bucket ending with the same orders, the Youzan peer; on
    PostgreSQL in a scratch database of the suite's server."""
    server = ["--database-url", postgres_url] if postgres_url else []
    out = subprocess.run(
        [sys.executable, str(BENCH), "--orders", "300", "--runs", "1", "--bucket-size", "5",
         "--leak-rate", "20", *server],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    report = out.stdout + out.stderr[-3000:]
    assert out.returncode == 0, report
    assert ("postgresql" if postgres_url else "sqlite") in out.stdout, report
    assert re.search(r"run 1: sync succeeded .* orders stored", out.stdout), report
    assert "requests replayed (ceiling)" in out.stdout, report
    assert re.search(r"hub's share \(median of 1\): [\d,]+ orders/s", out.stdout), report
    throttled = re.search(r"throttled \(bucket 5, leaking 20/s\): sync succeeded in .* "
                          r"(\d+) 429s survived, .* -> OK", out.stdout)  # fmt: skip
    assert throttled, report
    assert re.search(r"peer: Youzan, 300 orders: .* orders/s", out.stdout), report
