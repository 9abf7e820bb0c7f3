"""The fair pool (engine/api/fair.py): per-caller FIFO queues served round-robin, deterministically."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from sheet2video.engine.api.fair import FairPool

WAIT = 30  # seconds a condition may take on a loaded machine before the test fails


@pytest.fixture
def pool():
    pools = []

    def make(workers: int = 1, per_caller: int | None = None) -> FairPool:
        pools.append(FairPool(workers, "test", per_caller=per_caller))
        return pools[-1]

    yield make
    for p in pools:
        p.shutdown(wait=True, cancel_futures=True)


def _hold(pool: FairPool, caller: str = "holder") -> threading.Event:
    """Occupy one thread of ``pool`` until the returned event is set (once it has started)."""
    started, release = threading.Event(), threading.Event()

    def hold():
        started.set()
        assert release.wait(WAIT)

    pool.submit(caller, hold)
    assert started.wait(WAIT)
    return release


def test_callers_are_served_round_robin_each_in_its_own_order(pool):
    fair = pool(workers=1)
    release = _hold(fair)
    order: list[str] = []
    futures = [fair.submit(caller, order.append, f"{caller}{n}")
               for caller, n in (("a", 1), ("a", 2), ("a", 3), ("b", 1), ("c", 1), ("b", 2))]
    assert fair.queued() == 6 and fair.queued("a") == 3
    release.set()
    for future in futures:
        future.result(WAIT)
    # a hundred tasks of one caller delay another's by one task per thread, not by the hundred
    assert order == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_a_caller_just_served_waits_behind_one_that_was_not(pool):
    fair = pool(workers=1)
    release = _hold(fair, "a")  # a is being served
    order: list[str] = []
    futures = [fair.submit("a", order.append, f"a{n}") for n in range(2, 5)] + [fair.submit("b", order.append, "b1")]
    release.set()
    for future in futures:
        future.result(WAIT)
    assert order == ["b1", "a2", "a3", "a4"]  # b queued last, yet goes first: a was served since


def test_a_newcomer_goes_next_ahead_of_callers_already_served(pool):
    fair = pool(workers=1)
    release_a = _hold(fair, "a")
    order: list[str] = []
    b_started, release_b = threading.Event(), threading.Event()

    def b1():
        order.append("b1")
        b_started.set()
        assert release_b.wait(WAIT)

    futures = [fair.submit("b", b1)] + [fair.submit(c, order.append, f"{c}{n}") for n in (2, 3) for c in ("a", "b")]
    release_a.set()
    assert b_started.wait(WAIT)  # a and b have both been served; b1 is running
    futures.append(fair.submit("c", order.append, "c1"))
    release_b.set()
    for future in futures:
        future.result(WAIT)
    assert order == ["b1", "c1", "a2", "b2", "a3", "b3"]  # c waited for the running task only


def test_per_caller_cap_leaves_a_thread_for_another_caller(pool):
    fair = pool(workers=2, per_caller=1)
    release_a = _hold(fair, "a")
    second_a = threading.Event()
    a2 = fair.submit("a", second_a.set)
    b = fair.submit("b", lambda: "b ran")
    assert b.result(WAIT) == "b ran"  # the free thread went to b, not to a's second task
    assert not second_a.is_set() and not a2.running() and fair.queued("a") == 1
    release_a.set()
    a2.result(WAIT)
    assert second_a.is_set()


def test_results_and_errors_reach_the_futures(pool):
    fair = pool(workers=2)
    assert fair.submit("a", lambda x, y: x + y, 2, 3).result(WAIT) == 5
    with pytest.raises(ZeroDivisionError):
        fair.submit("a", lambda: 1 / 0).result(WAIT)


def test_shutdown_with_cancel_cancels_what_is_queued_and_refuses_more(pool):
    fair = pool(workers=1)
    release = _hold(fair)
    queued = [fair.submit(c, lambda: None) for c in ("a", "b", "a")]
    fair.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    assert fair.submit("a", lambda: None).cancelled()
    release.set()
    fair.shutdown(wait=True)  # the running task finishes and the threads end


def test_shutdown_without_cancel_runs_what_is_queued(pool):
    fair = pool(workers=1, per_caller=1)
    release = _hold(fair, "a")
    done: list[str] = []
    queued = [fair.submit(c, done.append, c) for c in ("a", "b")]
    release.set()
    fair.shutdown(wait=True)
    assert all(f.done() and not f.cancelled() for f in queued) and sorted(done) == ["a", "b"]


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="Linux threads have their own nice value")
def test_a_nice_pool_lowers_its_threads_and_theirs_not_the_callers():
    """The speech pools run at a render's nice: speaking yields the CPU to the API's threads, and so do
    the threads the speech engine starts from them (onnxruntime's)."""
    before = _own_nice()
    pool = FairPool(1, "nice-test", nice=5)
    try:
        def own_and_child() -> tuple[int, int]:
            seen = []
            child = threading.Thread(target=lambda: seen.append(_own_nice()))
            child.start()
            child.join()
            return _own_nice(), seen[0]

        assert pool.submit("A", own_and_child).result(timeout=30) == (min(19, before + 5),) * 2
    finally:
        pool.shutdown(wait=True)
    assert _own_nice() == before
    plain = FairPool(1, "plain-test")
    try:
        assert plain.submit("A", _own_nice).result(timeout=30) == before
    finally:
        plain.shutdown(wait=True)
