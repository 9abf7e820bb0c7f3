"""A real S3-protocol server on loopback for the storage tests: moto in server mode, in its own
process (so a client killed with -9 cannot take the store down with it), one per test session."""

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from sheet2video.cloud.storage import ObjectStore

S3_ENV = {"AWS_ACCESS_KEY_ID": "test-key-id", "AWS_SECRET_ACCESS_KEY": "test-secret-never-printed"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)  # polling for the condition "port accepts", bounded by the deadline
    raise RuntimeError("moto_server did not start listening")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **S3_ENV},
    )
    try:
        _wait_listening(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def s3_env(monkeypatch):
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    return dict(S3_ENV)


@pytest.fixture
def bucket(s3_endpoint, s3_env):
    """A fresh bucket (own name per test: the server is shared by the session)."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    store = ObjectStore(name, endpoint_url=s3_endpoint, region="us-east-1")
    store._client.create_bucket(Bucket=name)
    return store
