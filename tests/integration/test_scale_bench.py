"""bench/scale.py run tiny: stores synced at once by `hub worker` processes on one database and
one Redis end with the same rows as one sequential sync of the same stores (the check the
benchmark makes at full size). Real sandboxes under gunicorn, real worker processes, a
redis-server of the benchmark's own; PostgreSQL on the suite's PostgreSQL pass (scratch
databases on that server), else SQLite files."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


def test_stores_synced_by_concurrent_workers_equal_a_sequential_sync(postgres_url):
    server = ["--database-url", postgres_url] if postgres_url else []
    out = subprocess.run(
        [sys.executable, str(BENCH), "--stores", "2", "--orders-per-store", "120",
         "--workers", "2", "--timeout", "90", *server],
        capture_output=True, text=True, timeout=150, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    report = out.stdout + out.stderr[-3000:]
    assert out.returncode == 0, report
    assert "sequential (in process)" in out.stdout, report
    assert "2 worker(s)" in out.stdout and "equal to the sequential sync" in out.stdout, report
    assert "DIFFERS" not in out.stdout, report
