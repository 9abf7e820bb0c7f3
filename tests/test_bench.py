"""The benchmark's judge: CPU time counted across process trees, spread, and the verdicts a noisy or
smoke figure may (not) get; two runs compared."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Result, cpu_seconds, measure, spread

ROOT = Path(__file__).resolve().parents[1]

# a parent that, once told to go, starts a child burning 0.6 s of CPU, then waits to be released
TREE = r"""
import subprocess, sys, time
from pathlib import Path
go, done, release = (Path(a) for a in sys.argv[1:])
while not go.exists():
    time.sleep(0.02)
burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass\n"
subprocess.run([sys.executable, "-c", burn], check=True)
done.touch()
while not release.exists():
    time.sleep(0.02)
"""


def test_cpu_seconds_counts_a_process_tree_it_did_not_start_itself(tmp_path):
    # the tree is started by a shell we do not wait for until the end: its CPU must come from /proc
    go, done, release = tmp_path / "go", tmp_path / "done", tmp_path / "release"
    script = tmp_path / "tree.py"
    script.write_text(TREE)
    parent = subprocess.Popen([sys.executable, str(script), str(go), str(done), str(release)])
    try:
        before = cpu_seconds([parent.pid])
        go.touch()
        deadline = time.monotonic() + 120
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        counted = cpu_seconds([parent.pid]) - before
    finally:
        release.touch()
        parent.wait(timeout=60)
    assert done.exists()
    assert 0.58 <= counted < 5, counted  # (/proc counts in 10 ms ticks)  # the grandchild's 0.6 s, reaped into its parent's count


def test_measure_counts_waited_children():
    sample = measure(lambda: subprocess.run(
        [sys.executable, "-c", "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass"],
        check=True))
    assert sample.cpu >= 0.38 and sample.wall >= 0.38


def test_spread_is_the_interquartile_range_over_the_median():
    assert spread([1.0, 1.0, 1.0, 1.0, 1.0]) == 0
    assert abs(spread([0.8, 0.9, 1.0, 1.1, 1.2]) - 0.2) < 1e-9
    assert spread([1.0]) is None


def test_a_noisy_figure_is_never_met_and_is_judged_on_its_basis():
    wide = [0.5, 0.8, 1.0, 1.2, 1.5]
    steady = [1.0, 1.01, 0.99, 1.0, 1.02]
    assert Result("f", "<= 1.10", wide).verdict == "noisy"
    assert not Result("f", "<= 1.10", wide).met
    # the same wall figures, judged on steady CPU ratios: met
    on_cpu = Result("f", "<= 1.10", wide, cpu_ratios=steady, basis="cpu")
    assert on_cpu.verdict == "met" and on_cpu.to_dict()["detail"]["wall"]["spread"] > 0.1
    assert Result("f", "<= 0.9", steady).verdict == "not met"
    assert Result("f", "reported", steady).verdict == "reported"
    assert Result("f", "<= 1.10", wide, repeated=False).verdict == "met"  # scores per track: no spread to gate
    smoke = Result("f", "<= 1.10", [1.0])
    smoke.quick = True
    assert smoke.verdict == "smoke" and not smoke.met


def test_a_rerun_pools_repetitions():
    first = Result("f", "<= 1.10", [0.5, 1.0, 1.5], cpu_ratios=[1.0, 1.0, 1.0], basis="cpu")
    first.absorb(Result("f", "<= 1.10", [1.0, 1.0], cpu_ratios=[1.01, 0.99], basis="cpu"))
    assert first.judged == [1.0, 1.0, 1.0, 1.01, 0.99] and first.rounds == 2
    assert first.to_dict()["detail"]["repetitions"] == 5


def _doc(verdicts: dict[str, str]) -> dict:
    return {"generated": "t", "results": [
        {"name": n, "ratio": 1.0, "met": v == "met", "verdict": v, "detail": {"spread": 0.01}} for n, v in verdicts.items()]}


def test_compare_fails_when_a_verdict_flips(tmp_path):
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    a.write_text(json.dumps(_doc({"x": "met", "y": "not met"})))
    b.write_text(json.dumps(_doc({"x": "met", "y": "not met"})))
    c.write_text(json.dumps(_doc({"x": "noisy", "y": "not met"})))

    def compare(p, q):
        return subprocess.run([sys.executable, "-m", "bench", "--compare", str(p), str(q)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    same, flipped = compare(a, b), compare(a, c)
    assert same.returncode == 0 and "every verdict agrees" in same.stdout
    assert flipped.returncode == 1 and "1 verdict(s) differ" in flipped.stdout


def test_a_bound_is_judged_on_its_worst_repetition_and_a_percentile_on_every_call():
    recovery = Result("r", "<= 30", [4.1, 4.3, 5.7], worst=True)  # spread 18 %: noise can only make it worse
    assert recovery.ratio == 5.7 and recovery.verdict == "met"
    assert Result("r", "<= 5", [4.1, 4.3, 5.7], worst=True).verdict == "not met"
    assert Result("q", ">= 0.95", [0.97, 0.96, 0.99], worst=True).ratio == 0.96
    latency = Result("p", "<= 100", [73.0, 97.0, 84.0], pooled=88.0)
    assert latency.ratio == 88.0 and latency.verdict == "met"
    assert latency.to_dict()["detail"]["statistic"] == "pooled"
