"""What ``sheet2video farm status`` shows: workers (remote-control ping and stats), queue depth,
running tasks, and failed renders (from the result backend, when it is Redis)."""

from __future__ import annotations

import json
from typing import Any

from sheet2video.engine.farm.app import QUEUE, FarmConfig, queue_depth, redact

__all__ = ["farm_status", "print_status"]


def farm_status(app, config: FarmConfig, timeout: float = 1.0) -> dict[str, Any]:
    # ping waits its whole timeout; then stats and active return as soon as every worker answered
    answering = len(app.control.ping(timeout=timeout))
    inspect = app.control.inspect(timeout=timeout, limit=answering)
    stats = (inspect.stats() or {}) if answering else {}
    active = (inspect.active() or {}) if answering else {}
    depth = queue_depth(app)
    workers = []
    for name in sorted(stats):
        info = stats[name]
        workers.append({
            "name": name,
            "concurrency": (info.get("pool") or {}).get("max-concurrency"),
            "done": sum((info.get("total") or {}).values()),
            "running": [t.get("id") for t in active.get(name) or []],
        })
    return {
        "broker": redact(config.broker),
        "queue": QUEUE,
        "queued": depth,
        "running": sum(len(w["running"]) for w in workers),
        "workers": workers,
        "failures": _failures(app, config),
    }


def _failures(app, config: FarmConfig) -> list[dict[str, str]] | None:
    """Renders that ended in an error, read from a Redis result backend (None: not readable)."""
    if not (config.results or "").startswith("redis"):
        return None
    client = app.backend.client
    failures = []
    for key in client.scan_iter(match="celery-task-meta-s2v-*", count=500):
        meta = json.loads(client.get(key) or "null") or {}
        result = meta.get("result")
        if meta.get("status") == "FAILURE" or (isinstance(result, dict) and result.get("error")):
            error = result.get("error") if isinstance(result, dict) and result.get("error") else {"message": str(result)}
            failures.append({"task": meta.get("task_id"), "error": str(error.get("message"))[:200]})
    return failures


def print_status(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"broker {report['broker']}  queue {report['queue']}: {report['queued']} waiting, "
                  f"{report['running']} running, {len(report['workers'])} worker(s)")
    grid = Table()
    for column in ("worker", "concurrency", "done", "running"):
        grid.add_column(column)
    for w in report["workers"]:
        grid.add_row(w["name"], str(w["concurrency"]), str(w["done"]), ", ".join(w["running"]) or "-")
    if report["workers"]:
        console.print(grid)
    failures = report["failures"]
    if failures is None:
        console.print("failures: not readable from this result backend")
    else:
        console.print(f"failures: {len(failures)}")
        for f in failures[:20]:
            console.print(f"  {f['task']}: {f['error']}")
