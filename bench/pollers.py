"""Concurrent Get pollers, in their own process so their Python does not share a GIL with the
server: ``python -m bench.pollers URL KEY_ID INTERVAL ROUNDS JOB_ID...`` (secret on stdin).

One thread per job id; each signs and sends GetBatchMediaProducingJob ``ROUNDS`` times, pausing
``INTERVAL`` seconds between calls (start times spread over the first interval), or until SIGINT.
Prints JSON with the latency percentiles in milliseconds.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import threading
import time


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def main(argv: list[str]) -> dict:
    from sheet2video.cloud.client import ImsClient
    from sheet2video.cloud.credentials import Credentials

    url, key_id, interval, rounds, *job_ids = argv
    interval, rounds = float(interval), int(rounds)
    secret = sys.stdin.read().strip()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(job_ids))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # "enough": finish the calls in flight, report

    def poller(job_id: str, seed: int) -> None:
        client = ImsClient(url, Credentials(key_id, secret), max_retries=0)
        client.get_batch_job(job_id)  # connection and session set up before the clock
        rng = random.Random(seed)
        barrier.wait()
        if interval:
            time.sleep(rng.uniform(0, interval))
        mine = []
        for _ in range(rounds):
            if stop.is_set():
                break
            start = time.perf_counter()
            try:
                job = client.get_batch_job(job_id)
                if job.get("JobId") != job_id:
                    raise RuntimeError("wrong job")
            except Exception as error:  # noqa: BLE001 — counted and reported
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            mine.append(time.perf_counter() - start)
            if interval:
                time.sleep(interval)
        with lock:
            latencies.extend(mine)
        client.close()

    threads = [threading.Thread(target=poller, args=(j, i)) for i, j in enumerate(job_ids)]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begin
    ms = [x * 1000 for x in latencies]
    return {
        "count": len(ms),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "p50_ms": percentile(ms, 50) if ms else None,
        "p99_ms": percentile(ms, 99) if ms else None,
        "max_ms": max(ms) if ms else None,
        "requests_per_second": len(ms) / elapsed,
        "latencies_ms": [round(x, 3) for x in ms],  # for a percentile over several repetitions' calls
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
