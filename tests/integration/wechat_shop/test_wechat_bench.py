"""bench/migrate_wechat.py run tiny: the mini shop sandbox under gunicorn (a real HTTP server
process) paged by a bare client, then the hub's migration (bind + the migration run in the
sync engine), its requests replayed by the bare client; on PostgreSQL in a scratch database
of the suite's server."""

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "migrate_wechat.py"


def test_bench_migrate_wechat_sandbox_alone_pages_every_listing() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--orders", "300", "--products", "40", "--sandbox-only"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    report = out.stdout + out.stderr[-3000:]
    assert out.returncode == 0, report
    assert "a 300-order, 40-product mini shop generated and served" in out.stdout, report
    passes = re.findall(r"sandbox alone, (first|second) pass .*?: ([\d,]+) records in (\d+) "
                        r"requests", out.stdout)  # fmt: skip
    assert [p[0] for p in passes] == ["first", "second"], report
    # every order and the SPUs of the taken statuses, the same both times
    records = {int(p[1].replace(",", "")) for p in passes}
    assert len(records) == 1 and 300 < records.pop() < 340, report


def test_bench_migrate_wechat_hub_share_beside_the_sandbox_alone(
    postgres_url: str | None,
) -> None:
    server = ["--database-url", postgres_url] if postgres_url else []
    out = subprocess.run(
        [sys.executable, str(BENCH), "--orders", "300", "--products", "40", "--runs", "2",
         *server],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    report = out.stdout + out.stderr[-3000:]
    assert out.returncode == 0, report
    assert ("postgresql" if postgres_url else "sqlite") in out.stdout, report
    runs = re.findall(r"run (\d): migration succeeded .* ([\d,]+) orders and ([\d,]+) products "
                      r"stored", out.stdout)  # fmt: skip
    assert [r[0] for r in runs] == ["1", "2"], report
    assert runs[0][1:] == runs[1][1:], report  # each run on a fresh database: the same rows
    assert "requests replayed (ceiling)" in out.stdout, report
    assert re.search(r"hub's share \(median of \d\): [\d,]+ orders/s", out.stdout), report
