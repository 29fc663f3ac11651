"""Run import steps in a fresh process: each step's result and seconds, and how much the
process's peak RSS grew over all of them after a warm-up step (issue 20: bounded memory).

    python -m tests.support.measure web|job CONFIG_JSON STEPS_JSON

``web`` posts each file to /api/v1/imports (as a web worker handles the upload); ``job`` runs
each import run to its end (as the worker's job does). The first step only warms up.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from flask import Flask


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def upload(app: Flask, step: dict[str, Any]) -> dict[str, Any]:
    with open(step["path"], "rb") as fh:
        response = app.test_client().post(
            "/api/v1/imports", content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {step['token']}"},
            data={"kind": step["kind"], "file": (fh, step["name"])},
        )  # fmt: skip
    return {"status": response.status_code, "body": response.get_json()}


def job(app: Flask, step: dict[str, Any]) -> dict[str, Any]:
    from hub.extensions import db
    from hub.imports import jobs
    from hub.models import ImportRun

    status = jobs.execute(step["run"])
    run = db.session.get(ImportRun, step["run"])
    return {"status": status, "error": run.error, "created": run.created, "failed": run.failed}


def main() -> None:
    from hub import create_app

    mode, config, steps = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    action = upload if mode == "web" else job
    app = create_app(config)
    results = []
    with app.app_context():
        action(app, steps[0])
        base = peak_mb()
        for step in steps[1:]:
            start = time.perf_counter()
            results.append({**action(app, step), "seconds": time.perf_counter() - start})
        growth = peak_mb() - base
    print(json.dumps({"results": results, "growth_mb": growth}))


if __name__ == "__main__":
    main()
