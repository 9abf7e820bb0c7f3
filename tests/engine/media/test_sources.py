"""Media references and output paths: what the engine may read and where it may write."""

import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from sheet2video.engine.media.sources import MediaResolver, output_relpath
from sheet2video.engine.outbound import UNIFORM, OutboundPolicy
from sheet2video.errors import RenderError
from tests.media import make_video


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return open(make_video(tmp_path_factory.mktemp("clip") / "clip.mp4", 1, "64x48"), "rb").read()


@pytest.fixture
def http_files(clip_bytes):
    """A loopback HTTP server with a small clip, a big file, a playlist and junk; counts the requests it serves."""
    served = {"count": 0}
    files = {"/clip.mp4": clip_bytes, "/big.mp4": b"y" * 300_000, "/junk.mp4": b"x" * 1000,
             "/list.m3u8": b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n"}

    def app(environ, start_response):
        served["count"] += 1
        body = files.get(environ["PATH_INFO"])
        return Response(body or b"missing", status=200 if body else 404)(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", served
    server.shutdown()


@pytest.fixture
def roots(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.mp4").write_bytes(b"a")
    (tmp_path / "secret.txt").write_text("outside the root")
    return media, tmp_path


def test_local_references_stay_inside_the_media_root(roots, tmp_path):
    media, top = roots
    resolver = MediaResolver(media, tmp_path / "cache")
    assert resolver.resolve("a.mp4") == (media / "a.mp4").resolve()
    assert resolver.resolve(str(media / "a.mp4")) == (media / "a.mp4").resolve()
    assert resolver.resolve((media / "a.mp4").as_uri()) == (media / "a.mp4").resolve()
    for bad in ("../secret.txt", str(top / "secret.txt"), (top / "secret.txt").as_uri(), "file:///etc/passwd", "/etc/passwd"):
        with pytest.raises(RenderError) as caught:
            resolver.resolve(bad)
        assert caught.value.code == "InvalidMaterial.Forbidden", bad
    (media / "link.mp4").symlink_to(top / "secret.txt")
    with pytest.raises(RenderError, match="outside the media root"):
        resolver.resolve("link.mp4")  # a symlink out of the root is followed, then refused
    for scheme in ("ftp://host/a.mp4", "gopher://host/a", "data:video/mp4;base64,AAAA", "DATA:,x", "javascript:alert(1)"):
        with pytest.raises(RenderError, match="unsupported media reference scheme") as caught:
            resolver.resolve(scheme)
        assert caught.value.code == "InvalidMaterial.Forbidden", scheme
    with pytest.raises(RenderError) as caught:
        resolver.resolve("C:/clips/a.mp4")  # a Windows path is a (missing) path, not a scheme
    assert caught.value.code == "InvalidMaterial.NotFound"
    with pytest.raises(RenderError) as caught:
        resolver.resolve("missing.mp4")
    assert caught.value.code == "InvalidMaterial.NotFound" and "missing.mp4" in caught.value.message


def test_http_media_downloaded_once_within_limits(roots, tmp_path, http_files):
    media, _ = roots
    base, served = http_files
    resolver = MediaResolver(media, tmp_path / "cache", max_download_bytes=100_000,
                             outbound=OutboundPolicy(["127.0.0.1/32"], explain=True))  # the loopback server, opened
    first = resolver.resolve(f"{base}/clip.mp4")
    assert first.read_bytes()[4:8] == b"ftyp" and first.parent == tmp_path / "cache"
    assert resolver.resolve(f"{base}/clip.mp4") == first and served["count"] == 1  # cached
    with pytest.raises(RenderError) as caught:
        resolver.resolve(f"{base}/big.mp4")
    assert caught.value.code == "InvalidMaterial.TooLarge"
    with pytest.raises(RenderError) as caught:
        resolver.resolve(f"{base}/nothing.mp4")
    assert caught.value.code == "InvalidMaterial.NotFound" and "404" in caught.value.message
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".dl-")]  # no partial files left


def test_a_resolver_refuses_loopback_by_default_without_a_request(roots, tmp_path, http_files):
    media, _ = roots
    base, served = http_files
    for url in (f"{base}/clip.mp4", f"{base.replace('127.0.0.1', 'localhost')}/clip.mp4"):
        with pytest.raises(RenderError) as caught:
            MediaResolver(media, tmp_path / "cache").resolve(url)
        assert (caught.value.code, caught.value.message) == ("InvalidMaterial.NotFound", UNIFORM.format(url=url))
    assert served["count"] == 0


def test_a_download_is_named_from_its_content_never_its_url(roots, tmp_path, http_files):
    """A ``.m3u8`` (or ``.txt``, ``.concat``) URL must not become a file FFmpeg reads as a playlist:
    the cache name is the URL's digest and what the probe found the bytes to be."""
    media, _ = roots
    base, _ = http_files
    resolver = MediaResolver(media, tmp_path / "cache", outbound=OutboundPolicy(["127.0.0.1/32"]))
    for query in ("/clip.mp4", "/clip.mp4?as=.m3u8", "/clip.mp4#x.m3u8"):
        path = resolver.resolve(base + query)
        assert path.suffix == ".mov" and len(path.stem) == 32, path  # an MP4's bytes, whatever the URL says
        assert path.read_bytes()[4:8] == b"ftyp"
    with pytest.raises(RenderError):  # a playlist is not media, whatever it is called
        resolver.resolve(f"{base}/list.m3u8")
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".mov"] * 3


def test_downloaded_bytes_that_are_not_media_never_enter_the_cache(roots, tmp_path, http_files):
    media, _ = roots
    base, _ = http_files
    for explain in (True, False):
        resolver = MediaResolver(media, tmp_path / f"cache-{explain}", outbound=OutboundPolicy(["127.0.0.1/32"], explain=explain))
        url = f"{base}/junk.mp4"
        with pytest.raises(RenderError) as caught:
            resolver.resolve(url)
        if explain:  # the embedded engine says what the bytes were, naming the URL
            assert url in caught.value.message and caught.value.code.startswith("InvalidMaterial."), caught.value
        else:  # a shared engine: the same sentence as for a closed port
            assert (caught.value.code, caught.value.message) == ("InvalidMaterial.NotFound", UNIFORM.format(url=url))
        assert list((tmp_path / f"cache-{explain}").iterdir()) == []


@pytest.mark.parametrize(
    "url, index, expected",
    [
        ("campaign/spring_{index}.mp4", 0, "campaign/spring_0.mp4"),
        ("https://bucket.oss-cn-shanghai.aliyuncs.com/out/v_{index}.mp4", 3, "bucket.oss-cn-shanghai.aliyuncs.com/out/v_3.mp4"),
        ("/abs/path/v_{index}.mp4", 1, "abs/path/v_1.mp4"),
        ("盒马/开业_{index}.mp4", 0, "盒马/开业_0.mp4"),
        ("name with spaces_{index}", 0, "name_with_spaces_0.mp4"),
    ],
)
def test_output_paths_map_under_the_outputs_folder(url, index, expected):
    assert output_relpath(url, index) == expected


@pytest.mark.parametrize("url", ["../escape_{index}.mp4", "a/../../b_{index}.mp4", "https://h/../../x_{index}.mp4", "{index}/.."])
def test_output_paths_never_escape(url):
    with pytest.raises(RenderError):
        output_relpath(url, 0)
