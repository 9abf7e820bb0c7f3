"""References as the user typed them: invisible differences in file names, and downloads that
answer with HTML, an error, a trickle, too many bytes, or real media (a loopback http.server)."""

import fcntl
import http.server
import os
import socket
import threading
import time
import unicodedata

import av
import pytest
import urllib3

from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.outbound import OutboundPolicy, UNIFORM
from sheet2video.errors import RenderError
from tests.media import make_video

NFC_NAME = unicodedata.normalize("NFC", "café.mp4")
NFD_NAME = unicodedata.normalize("NFD", "café.mp4")


@pytest.fixture
def named(tmp_path):
    """A media root whose files have the names real folders hold."""
    root = tmp_path / "media"
    root.mkdir()
    for name in ("a b.mp4", NFD_NAME, "x\u200by.mp4", "d e.mp4", "d\u00a0e.mp4"):
        (root / name).write_bytes(b"clip")
    (root / "my\u00a0folder").mkdir()
    (root / "my\u00a0folder" / "clip.mp4").write_bytes(b"clip")
    (tmp_path / "outside secret.mp4").write_bytes(b"secret")
    (root / "link\u00a0out.mp4").symlink_to(tmp_path / "outside secret.mp4")
    return root, MediaResolver(root, tmp_path / "cache")


@pytest.mark.parametrize("typed, on_disk", [
    ("a\u00a0b.mp4", "a b.mp4"),                    # NBSP pasted from a chat or a web page
    ("a\u200b b.mp4", "a b.mp4"),                   # a zero-width space as well
    ("\ufeffa b.mp4", "a b.mp4"),                   # a BOM glued to the first cell
    (NFC_NAME, NFD_NAME),                           # typed NFC, stored NFD (macOS)
    ("xy.mp4", "x\u200by.mp4"),                     # the file's name carries the invisible character
    ("my folder/clip.mp4", "my\u00a0folder/clip.mp4"),  # matched per path component
])
def test_a_name_that_reads_the_same_finds_the_one_file(named, typed, on_disk):
    root, resolver = named
    assert resolver.resolve(typed) == (root / on_disk).resolve()
    assert resolver.resolve(str(root / typed)) == (root / on_disk).resolve()  # absolute paths too


def test_the_exact_name_wins_over_a_near_one(named):
    root, resolver = named
    assert resolver.resolve("d\u00a0e.mp4") == (root / "d\u00a0e.mp4").resolve()
    assert resolver.resolve("d e.mp4") == (root / "d e.mp4").resolve()


def test_two_names_reading_the_same_is_an_error_saying_what_differs(named):
    _, resolver = named
    with pytest.raises(RenderError) as caught:
        resolver.resolve("d\u200be.mp4".replace("e", " e", 1))  # "d\u200b e.mp4": both "d e" files read like it
    message = caught.value.message
    assert caught.value.code == "InvalidMaterial.NotFound"
    assert "2 names read the same" in message and "'d e.mp4'" in message and "'d\\xa0e.mp4'" in message
    assert "the name has a zero-width space (U+200B)" in message
    assert "the file's name has a non-breaking space (U+00A0)" in message


def test_no_match_names_the_invisible_character_typed(named):
    _, resolver = named
    with pytest.raises(RenderError) as caught:
        resolver.resolve("zz\u00a0top.mp4")
    assert caught.value.message == ("The specified media not found: zz\u00a0top.mp4 "
                                    "(the name has a non-breaking space (U+00A0))")
    with pytest.raises(RenderError) as caught:
        resolver.resolve(unicodedata.normalize("NFD", "résumé.mp4"))
    assert "Unicode form NFD" in caught.value.message


def test_near_matching_keeps_the_root_and_symlink_rules(named, tmp_path):
    _, resolver = named
    with pytest.raises(RenderError) as caught:
        resolver.resolve("link out.mp4")  # matches a symlink pointing out of the root: refused
    assert caught.value.code == "InvalidMaterial.Forbidden"
    with pytest.raises(RenderError) as caught:
        resolver.resolve("../outside\u00a0secret.mp4")  # outside before any matching: refused, not listed
    assert caught.value.code == "InvalidMaterial.Forbidden"
    with pytest.raises(RenderError) as caught:
        resolver.resolve(str(tmp_path / "outside\u00a0secret.mp4"))
    assert caught.value.code == "InvalidMaterial.Forbidden"


# ---------------------------------------------------------------- downloads


class Site:
    """A loopback http.server: /clip.mp4 (a real MP4), /share (HTML), /disguised.mp4 (HTML sent as
    video/mp4), /login → 302 → an HTML login page, /missing.mp4 (404), /big.mp4, /trickle.mp4 (a byte
    every 0.4 s) and /stall.mp4 (headers, then nothing)."""

    def __init__(self, clip: bytes):
        self.hits: dict[str, int] = {}
        self.done = threading.Event()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, status, body, kind="video/mp4", length=None, headers=()):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self):
                site.hits[self.path] = site.hits.get(self.path, 0) + 1
                page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Log in to view</body></html>"
                if self.path == "/clip.mp4":
                    self.send(200, clip)
                elif self.path == "/share":
                    self.send(200, page, "text/html; charset=utf-8")
                elif self.path == "/disguised.mp4":
                    self.send(200, b"\n  " + page, "video/mp4")
                elif self.path == "/login":
                    self.send(302, b"", headers=[("Location", "/login-page")])
                elif self.path == "/login-page":
                    self.send(200, page, "text/html")
                elif self.path == "/big.mp4":
                    self.send(200, clip * 40)
                elif self.path in ("/trickle.mp4", "/stall.mp4"):
                    self.send(200, b"", length=1000)
                    while self.path == "/trickle.mp4" and not site.done.wait(0.4):  # the server's pace, not a test sync
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    site.done.wait(30)
                else:
                    self.send(404, b"<html><body>Not Found</body></html>", "text/html")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.done.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    make_video(path, 1.0, "160x90", color="red")
    return path.read_bytes()


@pytest.fixture
def site(clip_bytes):
    s = Site(clip_bytes)
    yield s
    s.close()


# The site is on loopback: opened, and explained as the embedded engine explains (a shared server's
# one sentence for every failure is test_a_shared_server_says_the_same_whatever_the_site_did).
EMBEDDED = OutboundPolicy(["127.0.0.1/32"], explain=True)


def resolver_for(tmp_path, **kw) -> MediaResolver:
    root = tmp_path / "media"
    root.mkdir(exist_ok=True)
    kw.setdefault("outbound", EMBEDDED)
    return MediaResolver(root, tmp_path / "cache", **kw)


def temps(tmp_path):
    folder = tmp_path / "cache"
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".dl-")) if folder.is_dir() else []


def test_a_real_mp4_downloads_once_and_probes(site, tmp_path, clip_bytes):
    resolver = resolver_for(tmp_path)
    path = resolver.resolve(f"{site.base}/clip.mp4")
    assert path.read_bytes() == clip_bytes
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (160, 90)
        assert abs(float(container.duration / 1e6) - 1.0) < 0.1
    assert resolver.resolve(f"{site.base}/clip.mp4") == path and site.hits["/clip.mp4"] == 1
    assert temps(tmp_path) == []


@pytest.mark.parametrize("path", ["/share", "/disguised.mp4", "/login"])
def test_an_html_answer_is_named_by_its_url(site, tmp_path, path):
    url = f"{site.base}{path}"
    with pytest.raises(RenderError) as caught:
        resolver_for(tmp_path).resolve(url)
    assert caught.value.message.startswith(f"URL {url} returned an HTML page, not media")
    assert caught.value.code == "InvalidMaterial.Type"
    assert temps(tmp_path) == [] and not list((tmp_path / "cache").iterdir())  # nothing cached either


def test_an_http_error_names_url_and_status(site, tmp_path):
    url = f"{site.base}/missing.mp4"
    with pytest.raises(RenderError) as caught:
        resolver_for(tmp_path).resolve(url)
    assert caught.value.message == f"cannot download {url}: HTTP 404 Not Found"
    assert caught.value.code == "InvalidMaterial.NotFound"


def test_too_large_stops_at_the_cap(site, tmp_path, clip_bytes):
    with pytest.raises(RenderError) as caught:
        resolver_for(tmp_path, max_download_bytes=len(clip_bytes) * 10).resolve(f"{site.base}/big.mp4")
    assert caught.value.code == "InvalidMaterial.TooLarge"
    assert temps(tmp_path) == []


@pytest.mark.parametrize("path", ["/trickle.mp4", "/stall.mp4"])
def test_a_trickle_or_a_stall_ends_at_the_total_deadline(site, tmp_path, path):
    url = f"{site.base}{path}"
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        resolver_for(tmp_path, download_timeout=1.5).resolve(url)
    took = time.monotonic() - started
    assert caught.value.message == f"download of {url} took longer than 1.5 s"
    assert 1.5 <= took < 2.5, took  # the deadline, not a per-read timeout (a trickle would never end)
    assert temps(tmp_path) == []


def test_ctrl_c_mid_download_leaves_no_temp_file(site, tmp_path, monkeypatch):
    seen = []
    real_read1 = urllib3.response.HTTPResponse.read1

    def read1(self, *args, **kw):
        if seen:  # second read: the first bytes are on disk, now the user presses Ctrl+C
            raise KeyboardInterrupt
        seen.extend(temps(tmp_path))
        return real_read1(self, *args, **kw)

    monkeypatch.setattr(urllib3.response.HTTPResponse, "read1", read1)
    with pytest.raises(KeyboardInterrupt):
        resolver_for(tmp_path).resolve(f"{site.base}/trickle.mp4")
    assert len(seen) == 1 and seen[0].startswith(".dl-")  # there was a temp file …
    assert temps(tmp_path) == []                         # … and it is gone


def test_a_killed_runs_temp_is_removed_at_the_next_start_and_the_download_restarts(site, tmp_path, clip_bytes):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / ".dl-killedrun").write_bytes(clip_bytes[:100])  # what kill -9 mid-download leaves
    live = cache / ".dl-livedownload"                      # another process downloading right now
    live.write_bytes(b"in progress")
    fd = os.open(live, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        resolver = resolver_for(tmp_path)
        assert temps(tmp_path) == [".dl-livedownload"]
    finally:
        os.close(fd)
    assert resolver.resolve(f"{site.base}/clip.mp4").read_bytes() == clip_bytes  # whole, from the start


def test_a_shared_server_says_the_same_whatever_the_site_did(site, tmp_path, clip_bytes, caplog):
    """A port scanner learns nothing: an HTML page, a redirect to one, a 404, too many bytes, a
    stall, a closed port and a refused address all read the same; the log keeps the difference."""
    opened = OutboundPolicy(["127.0.0.1/32"])
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{unused.getsockname()[1]}/clip.mp4"
    cases = [(f"{site.base}{path}", opened) for path in ("/share", "/disguised.mp4", "/login", "/missing.mp4", "/big.mp4", "/stall.mp4")]
    cases += [(closed, opened), (f"{site.base}/clip.mp4", OutboundPolicy())]  # closed port; loopback refused
    said = set()
    for url, policy in cases:
        resolver = resolver_for(tmp_path, outbound=policy, max_download_bytes=len(clip_bytes) * 10, download_timeout=1.5)
        with pytest.raises(RenderError) as caught:
            resolver.resolve(url)
        said.add((caught.value.code, caught.value.message.replace(url, "URL")))
    assert said == {("InvalidMaterial.NotFound", UNIFORM.format(url="URL"))}
    logged = " ".join(r.getMessage() for r in caplog.records)
    for why in ("HTML page", "HTTP 404", "download limit", "took longer", "Connection refused", "is loopback: refused"):
        assert why in logged, why
    assert "/clip.mp4" not in site.hits and temps(tmp_path) == []  # the refused fetch never reached the site
