"""Hostile network requests to a shared engine (issue [shield] §2): an attacker holding one API key
names URLs — media, redirects, RegisterMediaInfo, callbacks — that point back at the server's own
loopback. A LoggingServer on 127.0.0.1 stands for whatever listens there and records every request:
it must get none, and every failure must read the same whatever the far side did.

To see that an opened address works, a second engine opens the logging server's port (or all of
127.0.0.1) with ``allow_fetch`` / ``allow_callback``; the embedded engine of ``sheet2video run``
keeps fetching from loopback.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time

import pytest
from werkzeug.wrappers import Response

from sheet2video.engine.outbound import UNIFORM
from sheet2video.errors import ImsError
from sheet2video.run.backends import open_backend
from sheet2video.run.options import RunOptions
from tests.media import make_video
from tests.reliability.hostile import LoggingServer, hostile_media, out_cfg, shared_engine, wait_job  # noqa: F401

SPELLINGS = ["127.0.0.1", "localhost", "127.1", "0x7f.1", "2130706433", "[::ffff:127.0.0.1]"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    return open(make_video(path, 2, "320x240", color="blue"), "rb").read()


@pytest.fixture
def site(clip):
    """A LoggingServer that serves a real clip at /clip.mp4 and answers callbacks at /cb."""
    server = LoggingServer()
    server.routes["/clip.mp4"] = (200, {"Content-Type": "video/mp4"}, clip)
    server.routes["/cb"] = (200, {}, b"ok")
    yield server
    server.close()


@pytest.fixture
def engine(tmp_path, hostile_media):
    """Engines as ``serve`` runs them; ``engine()`` is the default one, ``engine(allow_fetch=…)`` opens."""
    with contextlib.ExitStack() as stack:
        count = iter(range(100))
        yield lambda **options: stack.enter_context(shared_engine(tmp_path / f"data-{next(count)}", hostile_media, **options))


def submit(client, media: str = "clips/ok.mp4", name: str = "v", notify: str | None = None) -> dict:
    job_id = client.submit_batch_job(input_config={"MediaGroupArray": [{"GroupName": "G", "MediaArray": [media]}]},
                                     output_config=out_cfg(name),
                                     user_data={"NotifyAddress": notify} if notify else None)
    return wait_job(client, job_id)


def failure(job: dict) -> tuple[str, str, str]:
    sub = job["SubJobList"][0]
    return job["Status"], sub.get("ErrorCode", ""), sub.get("ErrorMessage", "")


def until(condition, timeout: float = 30.0):
    """Wait for ``condition()`` to be true (polling); its last value."""
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def refused_callback(caplog, job_id: str) -> bool:
    return any(f"callback of job {job_id} not sent" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- fetches

@pytest.mark.parametrize("host", SPELLINGS)
def test_a_media_url_pointing_home_is_never_fetched(engine, site, host):
    url = site.url("/clip.mp4", host=host)
    job = submit(engine().client, url)
    assert failure(job) == ("Failed", "InvalidMaterial.NotFound", UNIFORM.format(url=url))
    assert site.hits() == []


def test_a_redirect_from_an_opened_server_to_loopback_is_not_followed(engine, site, clip):
    opened = LoggingServer()
    try:
        opened.routes["/clip.mp4"] = (200, {"Content-Type": "video/mp4"}, clip)
        opened.routes["/go"] = (302, {"Location": site.url("/clip.mp4")}, b"")
        opened.routes["/go-mapped"] = (307, {"Location": site.url("/clip.mp4", host="[::ffff:127.0.0.1]")}, b"")
        e = engine(allow_fetch=[f"127.0.0.1:{opened.port}"])  # the opened server's port, not the site's
        assert submit(e.client, opened.url("/clip.mp4"), "direct")["Status"] == "Finished"  # the opening works
        for path in ("/go", "/go-mapped"):
            job = submit(e.client, opened.url(path), path.strip("/"))
            assert failure(job) == ("Failed", "InvalidMaterial.NotFound", UNIFORM.format(url=opened.url(path)))
        assert site.hits() == [] and len(opened.hits("/go")) == len(opened.hits("/go-mapped")) == 1
    finally:
        opened.close()


def test_register_media_info_refuses_loopback_and_get_media_info_never_fetches(engine, site):
    client = engine().client
    for host in SPELLINGS:
        url = site.url("/clip.mp4", host=host)
        with pytest.raises(ImsError) as caught:
            client.get_media_info(client.register_media_info(url))  # registered by the old engine, then fetched
        assert (caught.value.code, caught.value.message) == ("InvalidParameter.InputURL", UNIFORM.format(url=url))
    assert site.hits() == []


def test_a_registered_url_is_checked_again_when_fetched(engine, site, clip):
    opened = LoggingServer()
    try:
        opened.routes["/later"] = (302, {"Location": site.url("/clip.mp4")}, b"")  # accepted at registration
        client = engine(allow_fetch=[f"127.0.0.1:{opened.port}"]).client
        media_id = client.register_media_info(opened.url("/later"), media_type="video")
        info = client.get_media_info(media_id)
        assert info["FileInfoList"][0]["FileBasicInfo"]["FileStatus"] == "Abnormal"
        assert site.hits() == [] and len(opened.hits("/later")) == 1
    finally:
        opened.close()


def test_a_closed_port_and_an_open_one_read_byte_for_byte_the_same(engine, site):
    """Whatever answers at 127.0.0.1:PORT — an error page, a login page, a server error, a redirect
    to the metadata service, a lie about the size, nothing at all — the caller reads one sentence."""
    opened, strict = engine(allow_fetch=["127.0.0.1/32"], render_outputs=False), engine(render_outputs=False)
    url = site.url("/x.mp4")
    said = {}
    for name, answer in [("404", (404, {"Content-Type": "text/html"}, b"<html>Not Found</html>")),
                         ("login", (200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html>Sign in</html>")),
                         ("500", (500, {}, b"boom")),
                         ("metadata", (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")),
                         ("huge", lambda request: Response(iter([b"\0" * 64]), content_type="video/mp4",
                                                           headers={"Content-Length": str(2**40)}))]:
        site.routes["/x.mp4"] = answer
        said[name] = failure(submit(opened.client, url, name))
    site.close()  # now nothing listens on the port
    said["closed"] = failure(submit(opened.client, url, "closed"))
    said["refused"] = failure(submit(strict.client, url, "refused"))
    assert set(said.values()) == {("Failed", "InvalidMaterial.NotFound", UNIFORM.format(url=url))}, said


# ---------------------------------------------------------------- callbacks

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_a_callback_to_loopback_is_never_sent(engine, site, caplog, host):
    caplog.set_level(logging.INFO, logger="sheet2video.engine")
    job = submit(engine(render_outputs=False).client, notify=site.url("/cb", host=host))
    assert job["Status"] == "Finished"
    assert until(lambda: site.hits() or refused_callback(caplog, job["JobId"])), "the callback was neither sent nor refused"
    assert site.hits() == [] and refused_callback(caplog, job["JobId"])


def test_openings_open_exactly_what_they_name(engine, site, caplog):
    """allow_fetch opens media fetches from the site's port, allow_callback callbacks to another port:
    the site gets its fetch but no callback; the receiver its callback; a third port nothing."""
    caplog.set_level(logging.INFO, logger="sheet2video.engine")
    receiver, third = LoggingServer(), LoggingServer()
    try:
        receiver.routes["/cb"] = (200, {}, b"ok")
        third.routes["/clip.mp4"] = site.routes["/clip.mp4"]
        e = engine(allow_fetch=[f"127.0.0.1:{site.port}"], allow_callback=[f"localhost:{receiver.port}"])
        job = submit(e.client, site.url("/clip.mp4"), "opened", notify=receiver.url("/cb", host="localhost"))
        assert job["Status"] == "Finished" and len(site.hits("/clip.mp4")) == 1
        assert until(lambda: receiver.hits("/cb")), "the opened callback never arrived"
        assert receiver.hits("/cb")[0].headers["Host"] == f"localhost:{receiver.port}"
        job = submit(e.client, third.url("/clip.mp4"), "third", notify=site.url("/cb"))
        assert failure(job) == ("Failed", "InvalidMaterial.NotFound", UNIFORM.format(url=third.url("/clip.mp4")))
        assert until(lambda: site.hits("/cb") or refused_callback(caplog, job["JobId"]))
        assert third.hits() == [] and site.hits("/cb") == [] and len(receiver.hits()) == 1
    finally:
        receiver.close()
        third.close()


# ---------------------------------------------------------------- the embedded engine: the user's own machine

def test_the_embedded_engine_still_fetches_from_loopback(tmp_path, hostile_media, site):
    backend = open_backend(tmp_path / "sheet.csv", RunOptions(media_root=hostile_media, workers=1))
    try:
        job = submit(backend.client, site.url("/clip.mp4", host="localhost"), notify=site.url("/cb"))
        assert job["Status"] == "Finished" and len(site.hits("/clip.mp4")) == 1
        assert until(lambda: site.hits("/cb")), "the embedded engine's callback never arrived"
        with socket.socket() as unused:  # and it says why a download failed: the user owns both ends
            unused.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{unused.getsockname()[1]}/a.mp4"
        status, code, message = failure(submit(backend.client, closed, "closed"))
        assert status == "Failed" and message.startswith(f"cannot download {closed}: ") and "refused" in message
    finally:
        backend.close()
