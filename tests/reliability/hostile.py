"""Shared parts of the hostile-input suite (tests/reliability/test_hostile_*.py): an attacker holds
one API key of a shared ``sheet2video serve`` and nothing else.

* :func:`red_picture` — a pure red picture OUTSIDE the media root. Any frame of an output that is
  mostly red means a file the engine must never read reached a video (:func:`shows_red`).
* :class:`LoggingServer` — an HTTP server on loopback that records every request, to catch
  server-side request forgery (a fetch or callback that should never have been made).
* :func:`shared_engine` — an engine configured as ``serve`` configures it (no test relaxations),
  started on loopback, with a signed client.

Import the fixtures into a test module by name (``from tests.reliability.hostile import …``).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import av
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import Credentials
from sheet2video.engine.api.server import Engine, EngineConfig, ephemeral_keys
from tests.media import make_image, make_video

__all__ = ["W", "H", "hostile_media", "red_picture", "shows_red", "LoggingServer", "logging_server",
           "shared_engine", "wait_job", "out_cfg"]

W, H = 180, 320


@pytest.fixture(scope="module")
def hostile_media(tmp_path_factory) -> Path:
    """A media root with one ordinary clip and one ordinary picture (both blue)."""
    root = tmp_path_factory.mktemp("media-root")
    (root / "clips").mkdir()
    make_video(root / "clips/ok.mp4", 2, "320x240", color="blue")
    make_image(root / "clips/ok.png", "320x240", "blue")
    return root


@pytest.fixture(scope="module")
def red_picture(tmp_path_factory) -> Path:
    """A red PNG and a red clip outside every media root: the secrets an attacker wants to read."""
    outside = tmp_path_factory.mktemp("outside-the-root")
    make_video(outside / "secret.mp4", 2, "320x240", color="red")
    return Path(make_image(outside / "secret.png", "320x240", "red"))


def shows_red(video: Path, every: int = 5) -> bool:
    """Whether any decoded frame (one in ``every``) is mostly pure red."""
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % every:
                continue
            rgb = frame.to_ndarray(format="rgb24").astype(int)
            red = (rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
            if red.mean() > 0.3:
                return True
    return False


class LoggingServer:
    """An HTTP server on 127.0.0.1 that records each request. ``routes[path]`` answers it:
    ``(status, headers, body)`` or a callable ``request -> Response``; anything else is a 404."""

    def __init__(self):
        self.requests: list[SimpleNamespace] = []
        self.routes: dict[str, tuple | Callable] = {}
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.port = self._server.server_port
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="logging-server")
        self._thread.start()

    def _app(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append(SimpleNamespace(method=request.method, path=request.path,
                                                 headers=dict(request.headers), body=request.get_data()))
        route = self.routes.get(request.path)
        if callable(route):
            response = route(request)
        elif route is not None:
            status, headers, body = route
            response = Response(body, status=status, headers=headers)
        else:
            response = Response(b"not here", status=404)
        return response(environ, start_response)

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or '127.0.0.1'}:{self.port}{path}"

    def hits(self, path: str | None = None) -> list[SimpleNamespace]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def logging_server():
    server = LoggingServer()
    yield server
    server.close()


@contextlib.contextmanager
def shared_engine(data: Path, media_root: Path, **options):
    """An engine as ``serve`` runs it (EngineConfig's defaults are the shared server's), on loopback."""
    key_id, secret = next(iter(ephemeral_keys().items()))
    options.setdefault("workers", 1)
    options.setdefault("threads", 1)
    engine = Engine(EngineConfig(data=data, media_root=media_root, keys={key_id: secret}, **options))
    url = engine.start()
    client = ImsClient(url, Credentials(key_id, secret), timeout=(5, 60))
    try:
        yield SimpleNamespace(engine=engine, url=url, key_id=key_id, secret=secret, client=client,
                              data=data, outputs=engine.outputs)
    finally:
        client.close()
        engine.close()


def wait_job(client: ImsClient, job_id: str, timeout: float = 120.0) -> dict:
    """Poll Get until the job is Finished or Failed; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    job: dict = {}
    while time.monotonic() < deadline:
        job = client.get_batch_job(job_id)
        if job["Status"] in ("Finished", "Failed"):
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not end within {timeout} s; last answer: {json.dumps(job)[:1500]}")


def out_cfg(name: str, count: int = 1, **extra) -> dict:
    return {"MediaURL": f"{name}/v_{{index}}.mp4", "Count": count, "Width": W, "Height": H, **extra}

