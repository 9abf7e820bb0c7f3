"""The farm end to end on loopback: Redis, the moto S3 server, two workers, the engine."""

from __future__ import annotations

from tests.farm.conftest import submit, wait_job


def test_smoke(farm):
    farm.worker("w1")
    farm.worker("w2")
    engine = farm.serve()
    job = wait_job(engine, submit(engine, "smoke", ["One", "Two", "Three"]))
    print(job)
    print(farm.versions())
    assert job["Status"] == "Finished"
