"""FactCache: a file's facts computed once per version of it, in memory and on disk."""

from __future__ import annotations

import json
import os
import threading

import pytest

from sheet2video.engine.media.facts import TRANSIENT, FactCache
from sheet2video.engine.media.probe import MediaInfo
from sheet2video.engine.timeline.task import identity_of

INFO = MediaInfo(kind="video", duration=2.0)


class Counting:
    """A compute function that counts its calls and returns the file's bytes' length."""

    def __init__(self, extra: dict | None = None):
        self.calls: list[str] = []
        self.extra = extra or {}

    def __call__(self, path: str, info: MediaInfo) -> dict:
        self.calls.append(path)
        with open(path, "rb") as fh:
            return {"length": len(fh.read()), "duration": info.duration, **self.extra}


def write(path, data: bytes, mtime_ns: int | None = None) -> str:
    path.write_bytes(data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return str(path)


def ask(cache: FactCache, path: str):
    return cache.get(path, INFO, identity_of(path))


def test_computed_once_per_version_of_the_file(tmp_path):
    compute = Counting()
    cache = FactCache("shots", compute)
    clip = write(tmp_path / "a.mp4", b"x" * 10, 1_000_000_000)
    assert ask(cache, clip) == ask(cache, clip) == {"length": 10, "duration": 2.0}
    assert len(compute.calls) == 1
    write(tmp_path / "a.mp4", b"x" * 10, 2_000_000_000)  # rewritten: same size, another mtime
    assert ask(cache, clip) == {"length": 10, "duration": 2.0} and len(compute.calls) == 2
    write(tmp_path / "a.mp4", b"x" * 12, 2_000_000_000)  # same mtime, another size
    assert ask(cache, clip)["length"] == 12 and len(compute.calls) == 3


def test_a_missing_file_is_computed_every_time_and_never_kept(tmp_path):
    calls = []
    cache = FactCache("shots", lambda path, info: calls.append(path) or {"whole": True}, tmp_path / "facts")
    assert cache.get("/nowhere.mp4", INFO, None) == cache.get("/nowhere.mp4", INFO, None) == {"whole": True}
    assert len(calls) == 2 and not (tmp_path / "facts").exists()


def test_the_disk_cache_survives_a_new_cache_and_a_corrupt_entry_is_recomputed(tmp_path):
    folder = tmp_path / "facts"
    clip = write(tmp_path / "a.mp4", b"x" * 10)
    first = Counting()
    assert ask(FactCache("shots", first, folder), clip)["length"] == 10
    files = list((folder / "shots").iterdir())
    assert len(files) == 1 and files[0].suffix == ".json"  # one file, no temp file left behind
    again = Counting()
    assert ask(FactCache("shots", again, folder), clip) == {"length": 10, "duration": 2.0}
    assert again.calls == []  # a restarted engine reads it back
    assert ask(FactCache("beats", again, folder), clip) and len(again.calls) == 1  # another kind: its own
    files[0].write_text('{"kind": "shots", "identity": [1, 2', encoding="utf-8")  # cut short by a crash
    fresh = Counting()
    assert ask(FactCache("shots", fresh, folder), clip)["length"] == 10 and len(fresh.calls) == 1
    assert json.loads(files[0].read_text(encoding="utf-8"))["facts"]["length"] == 10  # replaced
    files[0].write_text(json.dumps({"kind": "shots", "identity": [1, 2, 3, 4], "facts": {"length": 99}}))
    assert ask(FactCache("shots", Counting(), folder), clip)["length"] == 10  # another file's entry: ignored


def test_a_transient_result_is_kept_in_memory_only(tmp_path):
    compute = Counting({TRANSIENT: True, "warning": "stopped at its time limit"})
    cache = FactCache("shots", compute, tmp_path / "facts")
    clip = write(tmp_path / "a.mp4", b"x")
    ask(cache, clip), ask(cache, clip)
    assert len(compute.calls) == 1 and not list((tmp_path / "facts").rglob("*.json"))
    later = Counting()
    ask(FactCache("shots", later, tmp_path / "facts"), clip)
    assert len(later.calls) == 1  # the next run tries again


def test_memory_is_bounded_least_recently_used_first(tmp_path):
    compute = Counting()
    cache = FactCache("shots", compute, size=2)
    a, b, c = (write(tmp_path / f"{n}.mp4", n.encode()) for n in "abc")
    ask(cache, a), ask(cache, b), ask(cache, a), ask(cache, c)  # b is the least recently used
    ask(cache, a)
    assert len(compute.calls) == 3
    ask(cache, b)
    assert len(compute.calls) == 4


def test_an_unwritable_folder_still_caches_in_memory(tmp_path):
    blocker = tmp_path / "facts"
    blocker.write_text("a file where the folder should be")
    compute = Counting()
    cache = FactCache("shots", compute, blocker)
    clip = write(tmp_path / "a.mp4", b"x")
    assert ask(cache, clip) == ask(cache, clip) and len(compute.calls) == 1


def test_callers_at_once_share_one_computation(tmp_path):
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow(path, info):
        calls.append(path)
        started.set()
        assert release.wait(60)
        return {"n": len(calls)}

    cache = FactCache("shots", slow)
    clip = write(tmp_path / "a.mp4", b"x")
    results = []
    first = threading.Thread(target=lambda: results.append(ask(cache, clip)))
    first.start()
    assert started.wait(60)
    second = threading.Thread(target=lambda: results.append(ask(cache, clip)))
    second.start()
    release.set()
    first.join(60), second.join(60)
    assert results == [{"n": 1}, {"n": 1}] and len(calls) == 1


@pytest.mark.parametrize("kind", ["", "../up", ".hidden", "a/b"])
def test_a_kind_is_a_plain_folder_name(kind):
    with pytest.raises(ValueError):
        FactCache(kind, lambda path, info: {})
