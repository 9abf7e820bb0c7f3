"""Starting a farm with bad settings, `farm status`, a worker of another task schema, stale temp files."""

from __future__ import annotations

import json

import pytest

from sheet2video.engine.farm.app import RENDER_TASK, FarmConfig, make_app
from sheet2video.locks import ExclusiveLock
from tests.engine.farm.conftest import Redis
from tests.reliability.conftest import assert_no_traceback, base_env, cli, free_port
from tests.cloud.conftest import S3_ENV

SECRET = "Br0kerPassw0rdNeverShown"


def one_clear_line(result, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert_no_traceback(result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert SECRET not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture
def env(tmp_path):
    return base_env(tmp_path / "home", **S3_ENV)


def test_unreachable_broker_or_storage_is_one_line_and_exit_2(tmp_path, env, s3_endpoint):
    dead_broker = f"redis://:{SECRET}@127.0.0.1:{free_port()}/0"
    storage = ["--storage-bucket", "nope", "--storage-endpoint", s3_endpoint]
    for command in (["worker", "--farm", dead_broker, *storage], ["farm", "status", "--farm", dead_broker],
                    ["serve", "--port", "0", "--data", str(tmp_path / "e"), "--farm", dead_broker, *storage]):
        line = one_clear_line(cli(*command, env=env, timeout=60), "cannot reach the farm broker", "***")
        print(line)
    redis = Redis(tmp_path / "redis")
    try:
        dead_storage = ["--storage-bucket", "b", "--storage-endpoint", f"http://127.0.0.1:{free_port()}"]
        for command in (["worker", "--farm", redis.url, *dead_storage],
                        ["serve", "--port", "0", "--data", str(tmp_path / "e2"), "--farm", redis.url, *dead_storage]):
            print(one_clear_line(cli(*command, env=env, timeout=60), "cannot reach"))
        one_clear_line(cli("worker", "--farm", redis.url, "--storage-bucket", "no-such-bucket", "--storage-endpoint",
                           s3_endpoint, env=env, timeout=60), "does not exist")
        one_clear_line(cli("worker", "--farm", redis.url, env=env, timeout=60), "--storage-bucket")
    finally:
        redis.stop()
    one_clear_line(cli("worker", "--farm", f"http://u:{SECRET}@host/", *storage, env=env, timeout=60), "redis://")


def test_wrong_broker_password_is_one_line_without_it(tmp_path, env):
    redis = Redis(tmp_path / "redis", "--requirepass", "the-real-one")
    try:
        url = f"redis://:{SECRET}@127.0.0.1:{redis.port}/0"
        one_clear_line(cli("farm", "status", "--farm", url, env=env, timeout=60), "cannot connect to the farm broker")
        good = cli("farm", "status", "--farm", f"redis://:the-real-one@127.0.0.1:{redis.port}/0", env=env, timeout=60)
        assert good.returncode == 0, good.stderr
        assert "the-real-one" not in good.stdout + good.stderr and ":***@" in good.stdout, good.stdout
    finally:
        redis.stop()


def test_status_other_schema_and_stale_files(farm):
    work = farm.tmp / "cache-w1" / "work"
    stale = [work / "w1_farmtest" / "s2v-killed.x", work / "sheet2video-4242_farmtest" / "s2v-other.y"]
    alive = work / "sheet2video-77_farmtest" / "s2v-rendering.z"  # another live worker sharing the cache
    for folder in (*stale, alive):
        folder.mkdir(parents=True)
        (folder / ".v_0.mp4.1234.part").write_bytes(b"half a video")
    with ExclusiveLock(work / "sheet2video-77_farmtest.lock", "busy"):
        worker = farm.worker("w1")
        assert not any(f.exists() for f in stale) and alive.exists()
        assert any("removed 2 stale" in line for line in worker.log), worker.log[:5]

    app = make_app(FarmConfig(farm.redis.url))
    answer = app.send_task(RENDER_TASK, args=[{"schema": 99, "sender": "9.9.9", "id": "s2v-old"}],
                           task_id="s2v-old").get(timeout=30)
    assert "cannot render a task of schema 99 sent by sheet2video 9.9.9" in answer["error"]["message"], answer
    assert worker.proc.poll() is None  # refused, not crashed

    result = cli("farm", "status", "--farm", farm.redis.url, "--json", env=farm.env, timeout=60)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert [w["name"] for w in status["workers"]] == [worker.name]
    assert status["workers"][0]["done"] == 1 and status["queued"] == 0 and status["running"] == 0
    assert [f["task"] for f in status["failures"]] == ["s2v-old"]
    table = cli("farm", "status", "--farm", farm.redis.url, env=farm.env, timeout=60)
    assert table.returncode == 0 and worker.name in table.stdout and "failures: 1" in table.stdout, table.stdout
