"""Benchmark: spreadsheet imports against the floor of reading the same file with openpyxl.

    python bench/imports.py [--customers 100000] [--sobot 5000] [--batch 1000]

- read:   openpyxl alone, read-only streaming, every cell of every row (the floor);
- import: the whole customer import (``hub.imports.service.start`` run inline: reading,
          mapping, in-file duplicate check, database pre-checks, ``ingest.apply`` in batches,
          failure file) on SQLite, into an empty workspace;
- the customer import also runs at a quarter of the rows, to show memory stays flat;
- the Sobot file (5,000 rows, the S2 maximum) the same way.

Each measurement runs in a fresh process and reports its wall time and peak RSS.
Target: the import within 3x of the read, memory flat in the number of rows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TAGS = ["vip", "tea", "expo", "newsletter", "b2b"]
CUSTOMER_HEADER = ["Name", "Mobile", "Email", "WeChat openid", "Gender", "City", "Tags"]


def customer_file(path: Path, rows: int) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("customers")
    sheet.append(CUSTOMER_HEADER)
    for i in range(rows):
        mobile = f"1{3 + i % 7}{100_000_000 + (i * 7919) % 800_000_000:09d}"
        sheet.append([f"Customer {i}", mobile, f"c{i}@shop{i % 97}.cn", f"oW{i:010d}",
                      "female" if i % 2 else "male", "Hangzhou", TAGS[i % 5]])  # fmt: skip
    book.save(path)
    return path


def sobot_file(path: Path, rows: int) -> Path:
    from openpyxl import Workbook

    from connectors.sobot.template import template_headers

    book = Workbook(write_only=True)
    sheet = book.create_sheet("orders")
    sheet.append(template_headers())
    for i in range(rows):
        order = i // 2  # two products per order
        sheet.append([f"SO-{order}", "Youzan", "Paid", "2024-03-01 10:00:00", "S1", "", "",
                      f"139{10_000_000 + order:08d}", "", "", f"P-{i % 50}", f"P-{i % 50}-S", "Tea",
                      "1", "10.00", "", "", ""])  # fmt: skip
    book.save(path)
    return path


def measure_read(path: str) -> dict:
    from openpyxl import load_workbook

    start = time.perf_counter()
    book = load_workbook(path, read_only=True, data_only=True)
    rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return {"rows": rows - 1, "seconds": time.perf_counter() - start}


def measure_import(path: str, kind: str, batch: int) -> dict:
    from cryptography.fernet import Fernet

    from hub import create_app
    from hub.extensions import db
    from hub.imports import service
    from hub.models import Workspace

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'hub.db'}",
        "SECRET_KEY": "bench", "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "UPLOAD_FOLDER": str(work / "uploads"), "INGEST_BATCH_SIZE": batch,
    })  # fmt: skip
    with app.app_context():
        db.create_all()
        ws = Workspace(name="Bench", slug="bench")
        db.session.add(ws)
        db.session.commit()
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        run = service.start(ws.id, kind, [(Path(path).name, Path(path))], enqueue=False)
        seconds = time.perf_counter() - start
        return {"rows": run.progress_done, "seconds": seconds, "status": run.status,
                "created": run.created, "failed": run.failed, "error": run.error,
                "baseline_mb": baseline}  # fmt: skip


def child(mode: str, path: str, kind: str, batch: int) -> None:
    out = measure_read(path) if mode == "read" else measure_import(path, kind, batch)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_child(mode: str, path: Path, kind: str, batch: int) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, str(path), kind, str(batch)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sobot", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-files-"))
    cases = [
        ("customers", customer_file(folder / "customers.xlsx", args.customers)),
        ("customers", customer_file(folder / "customers-quarter.xlsx", args.customers // 4)),
        ("sobot-orders", sobot_file(folder / "sobot.xlsx", args.sobot)),
    ]
    report = []
    print(f"{'file':26} {'rows':>7} {'read s':>7} {'import s':>8} {'ratio':>6} {'rows/s':>8} "
          f"{'read MB':>8} {'import MB':>9} {'(app MB)':>8}")  # fmt: skip
    for kind, path in cases:
        read = run_child("read", path, kind, args.batch)
        imp = run_child("import", path, kind, args.batch)
        if imp["status"] != "succeeded" or imp["failed"]:
            raise SystemExit(f"{path.name}: import {imp}")
        ratio = imp["seconds"] / read["seconds"]
        report.append({"file": path.name, "kind": kind, "read": read, "import": imp,
                       "ratio": ratio})  # fmt: skip
        print(f"{path.name:26} {imp['rows']:>7} {read['seconds']:>7.2f} {imp['seconds']:>8.2f} "
              f"{ratio:>6.2f} {imp['rows'] / imp['seconds']:>8.0f} "
              f"{read['peak_rss_mb']:>8.0f} {imp['peak_rss_mb']:>9.0f} "
              f"{imp['baseline_mb']:>8.0f}")  # fmt: skip
    print(json.dumps(report))


if __name__ == "__main__":
    main()
