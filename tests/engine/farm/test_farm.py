"""The farm end to end on loopback: Redis, the moto S3 server, two workers, the engine; faults
(kill -9 of a worker, a task that kills its worker, the engine and the broker restarted)."""

from __future__ import annotations

import shutil
import time

from tests.engine.farm.conftest import assert_outputs, attempts, freeze_mid_render, received, submit, wait_job
from tests.reliability.conftest import wait_until


def test_worker_killed_mid_render_the_other_renders_it(farm):
    workers = [farm.worker("w1"), farm.worker("w2")]
    engine = farm.serve()
    n = 6
    job_id = submit(engine, "killed", [f"Video {i}" for i in range(n)])
    doomed, victim = wait_until(lambda: freeze_mid_render(workers, farm.store), 60, "a worker mid-render")
    doomed.kill()  # kill -9 of the worker, its pool process and (by their death signal) FFmpeg
    killed_at = time.monotonic()
    (other,) = [w for w in workers if w is not doomed]
    wait_until(lambda: victim in received(other), 40, "the killed task to run again on the other worker")
    recovery = time.monotonic() - killed_at
    job = wait_job(engine, job_id)
    assert job["Status"] == "Finished", job
    assert_outputs(farm, job, n)
    assert attempts(farm)[victim] == 2  # the killed delivery and the one that rendered it
    print(f"worker kill → task running again on the other worker after {recovery:.1f} s")
    assert recovery < 30


def test_a_task_that_kills_its_worker_three_times_fails_alone(farm):
    for name in ("w1", "w2"):
        farm.worker(name, SHEET2VIDEO_FARM_DIE_ON="POISON")
    engine = farm.serve()
    job = wait_job(engine, submit(engine, "poison", ["Fine 0", "POISON pill", "Fine 2"]), timeout=120)
    assert job["Status"] == "Finished", job  # the job goes on: two of three videos
    subs = job["SubJobList"]
    assert sorted(s["Status"] for s in subs) == ["Failed", "Success", "Success"], subs
    (failed,) = [s for s in subs if s["Status"] == "Failed"]
    assert "killed its worker 3 times" in failed["ErrorMessage"], failed
    assert sorted(attempts(farm).values()) == [1, 1, 4]  # three deaths, then the refusal
    assert all(w.proc.poll() is None for w in farm.workers)  # the workers themselves survive


def test_engine_restarted_while_tasks_are_out_renders_nothing_twice(farm):
    w1 = farm.worker("w1")  # one worker: many tasks are still out when the engine comes back
    engine = farm.serve()
    n = 24
    job_id = submit(engine, "restart", [f"Video {i}" for i in range(n)])
    wait_until(lambda: farm.redis.tasks_out() == n and received(w1), 60, "all tasks out, one taken")
    engine.kill()  # kill -9: tasks are queued, running, and finish while the engine is away
    wait_until(lambda: any(k.endswith(".mp4") for k in farm.store.list_keys("renders/")), 60,
               "an output rendered while the engine is down")
    lives = len(engine.log)
    engine.start()
    job = wait_job(engine, job_id)
    assert job["Status"] == "Finished", job
    assert_outputs(farm, job, n)
    assert list(attempts(farm).values()) == [1] * n, attempts(farm)  # every output rendered exactly once
    assert sorted(set(received(w1))) == sorted(attempts(farm))
    second_life = "\n".join(engine.log[lives:])
    assert "taken from the bucket" in second_life, second_life  # reconciled from the bucket ...
    assert "is still out" in second_life, second_life  # ... and from the result backend


def test_broker_restarted_work_resumes(farm):
    workers = w1, w2 = farm.worker("w1"), farm.worker("w2")
    engine = farm.serve()
    n = 8  # two at a time: most are still queued in the broker when it goes down
    job_id = submit(engine, "broker", [f"Video {i}" for i in range(n)])
    wait_until(lambda: farm.redis.tasks_out() == n and (received(w1) or received(w2)), 60, "all tasks out, one taken")
    farm.redis.stop()
    seen = [len(received(w)) for w in workers]
    farm.redis.start()  # same port, same append-only file: the queue survives
    job = wait_job(engine, job_id, timeout=90)
    assert job["Status"] == "Finished", job
    assert_outputs(farm, job, n)
    after = sum(len(received(w)) - before for w, before in zip(workers, seen))
    assert after > 0, "no task was delivered by the restarted broker: it went down after the work was done"


def test_broker_restarted_without_its_data_work_resumes(farm):
    """A broker that comes back empty (no append-only file): the engine finds its tasks neither
    queued nor known and sends them again; still one object per output key."""
    w1 = farm.worker("w1")  # one worker: most tasks are still queued when the broker loses them
    engine = farm.serve()
    n = 8
    job_id = submit(engine, "wiped", [f"Video {i}" for i in range(n)])
    wait_until(lambda: farm.redis.tasks_out() == n and received(w1), 60, "all tasks out, one taken")
    farm.redis.stop()
    for stored in farm.redis.folder.glob("appendonly*"):
        shutil.rmtree(stored) if stored.is_dir() else stored.unlink()
    farm.redis.start()
    job = wait_job(engine, job_id, timeout=90)
    assert job["Status"] == "Finished", job
    assert_outputs(farm, job, n)
    assert any("sending it again" in line for line in engine.log), engine.log
