"""The cost of the check at the core's boundary (``hub.core.checks``) beside ``apply`` itself.

    python bench/record_checks.py [--orders 100000]

bench/ingest.py's orders (2 lines, buyers), batches of 5,000 applied on SQLite; each batch is
checked once on its own before ``apply`` (which checks it again), both timed in process CPU
(the writer thread included), so the share holds on a busy machine where wall times drift.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    n = parser.parse_args().orders
    os.environ.setdefault("HUB_ALLOW_INSECURE_DEFAULTS", "true")
    from hub import create_app
    from hub.core import ingest
    from hub.core.checks import check_records
    from hub.extensions import db
    from hub.models import Workspace
    from tests.support.orders import shop_batch

    apply_cpu = check_cpu = 0.0
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/hub.db",
                          "SECRET_KEY": "bench", "ENCRYPTION_KEY": "bench", "CONNECTORS": [],
                          "ALLOW_INSECURE_DEFAULTS": True})  # fmt: skip
        with app.app_context():
            db.create_all()
            ws = Workspace(name="bench", slug="bench")
            db.session.add(ws)
            db.session.commit()
            for start in range(0, n, 5000):
                batch = shop_batch(start, min(5000, n - start), n // 4)
                t = time.process_time()
                check_records(batch)
                check_cpu += time.process_time() - t
                t = time.process_time()
                ingest.apply(db.session, ws.id, batch)
                apply_cpu += time.process_time() - t
    share = 100 * check_cpu / apply_cpu
    print(f"{n:,} orders: apply {apply_cpu / n * 1e6:.1f} us CPU an order (its check included), "
          f"the check {check_cpu / n * 1e6:.2f} us = {share:.1f} % of it")  # fmt: skip


if __name__ == "__main__":
    main()
