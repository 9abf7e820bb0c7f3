"""Running the local engine for a benchmark: start it on loopback, talk to it with the real client."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials

FINAL = ("Finished", "Failed")


@contextmanager
def engine(data: Path, media_root: Path, *, wrap: Callable | None = None, **config: Any) -> Iterator[tuple[Any, str, str, str]]:
    """A started Engine → (engine, url, key id, secret). ``wrap(app) -> app`` wraps the WSGI app
    before ``start()`` (e.g. to record arrival times)."""
    from sheet2video.engine.api.server import Engine, EngineConfig, ephemeral_keys

    keys = ephemeral_keys()
    key_id, secret = next(iter(keys.items()))
    eng = Engine(EngineConfig(data=data, media_root=media_root, keys=keys, **config))
    if wrap is not None:
        # The server serves ``engine.wsgi`` (possibly behind a fault-injection wrapper, ``engine.app``):
        # wrap the instance's wsgi; where ``app`` is a plain attribute captured at init, wrap that too.
        eng.wsgi = wrap(eng.wsgi)
        if "app" in vars(eng):
            eng.app = wrap(vars(eng)["app"])
    try:
        url = eng.start()
        yield eng, url, key_id, secret
    finally:
        eng.close()


def client(url: str, key_id: str, secret: str) -> ImsClient:
    return ImsClient(url, Credentials(key_id, secret))


def submit(c: ImsClient, params: dict[str, str]) -> str:
    return c.submit_batch_job(input_config=params["InputConfig"], editing_config=params.get("EditingConfig"),
                              output_config=params["OutputConfig"], user_data=params.get("UserData"))


def wait(c: ImsClient, job_id: str, *, interval: float = 0.05, timeout: float = 900) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = c.get_batch_job(job_id)
        if job.get("Status") in FINAL:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} not done after {timeout} s")
        time.sleep(interval)


def run_job(c: ImsClient, params: dict[str, str]) -> tuple[float, dict]:
    """Submit one job and wait for it: (wall seconds from submit to Finished, the job)."""
    start = time.perf_counter()
    job = wait(c, submit(c, params))
    elapsed = time.perf_counter() - start
    failed = [s for s in job.get("SubJobList") or [] if s.get("Status") != "Success"]
    if job.get("Status") != "Finished" or failed:
        raise RuntimeError(f"bench job failed: {job.get('Status')} {failed[:1]}")
    return elapsed, job
