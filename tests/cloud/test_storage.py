"""The object-storage layer against a real S3-protocol server (moto_server on loopback)."""

import hashlib
import http.server
import threading

import pytest
import requests

from sheet2video.errors import ConfigError, StorageError
from sheet2video.cloud.storage import ObjectStore, content_key, parse_object_url


def _file(path, size, seed=b"x"):
    block = hashlib.sha256(seed).digest() * 2048  # 64 KiB of varied bytes
    with open(path, "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
        f.write(block[: size % len(block)])
    return path


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_content_key_names_bytes_not_names(tmp_path):
    a, b = _file(tmp_path / "A.MP4", 1000), _file(tmp_path / "copy.mp4", 1000)
    assert content_key(a, "camp") == content_key(b, "camp") == f"camp/inputs/{_sha(a)}.mp4"
    assert content_key(a, "") == f"inputs/{_sha(a)}.mp4"
    assert content_key(a, "/p/q/", ext="bin").startswith("p/q/inputs/") and content_key(a, "p", "bin").endswith(".bin")


def test_put_uploads_once_then_skips(bucket, tmp_path):
    src = _file(tmp_path / "shot.mp4", 300_000)
    sent = []
    first = bucket.upload_content(src, "camp", progress=sent.append)
    assert first.uploaded and first.key == f"camp/inputs/{_sha(src)}.mp4" and sum(sent) == 300_000
    again = bucket.upload_content(src, "camp", progress=sent.append)
    assert not again.uploaded and again.key == first.key and sum(sent) == 300_000  # nothing re-sent
    info = bucket.head(first.key)
    assert info.size == 300_000 and info.sha256 == _sha(src)
    assert bucket.exists(first.key) and not bucket.exists("camp/inputs/nothing.mp4")


def test_large_file_goes_multipart_and_round_trips(bucket, tmp_path):
    src = _file(tmp_path / "big.mov", 17 * 1024 * 1024 + 123)
    put = bucket.put_file(src, "big.mov")
    assert put.uploaded
    assert bucket.head("big.mov").etag.endswith("-2")  # two 16 MiB parts: S3's multipart ETag
    assert bucket.get_file("big.mov", tmp_path / "back.mov") == _sha(src) == _sha(tmp_path / "back.mov")


def test_get_file_resumes_a_partial_download(bucket, tmp_path):
    src = _file(tmp_path / "v.mp4", 500_000)
    bucket.put_file(src, "out/v.mp4")
    dest = tmp_path / "videos" / "v.mp4"
    dest.parent.mkdir()
    part = dest.with_name("v.mp4.part")
    # a killed run left the first 200 kB and the ETag it was fetching
    part.write_bytes(src.read_bytes()[:200_000])
    dest.with_name("v.mp4.part.etag").write_text(bucket.head("out/v.mp4").etag)
    moved = []
    assert bucket.get_file("out/v.mp4", dest, progress=moved.append) == _sha(src)
    assert dest.read_bytes() == src.read_bytes() and not part.exists()
    assert moved[0] == 200_000 and sum(moved) == 500_000


def test_resumed_bytes_are_checked_against_the_object(bucket, tmp_path):
    """A .part whose bytes differ from the object (same length): only the rest is fetched (Range),
    and the sha256 check catches the mix instead of renaming it into place."""
    src = _file(tmp_path / "v.mp4", 500_000)
    bucket.put_file(src, "out/v.mp4")
    dest = tmp_path / "v2.mp4"
    dest.with_name("v2.mp4.part").write_bytes(b"\0" * 200_000)
    dest.with_name("v2.mp4.part.etag").write_text(bucket.head("out/v.mp4").etag)
    with pytest.raises(StorageError, match="do not match"):
        bucket.get_file("out/v.mp4", dest)
    assert not dest.exists() and not dest.with_name("v2.mp4.part").exists()
    assert bucket.get_file("out/v.mp4", dest) == _sha(src)  # the rerun starts clean


def test_get_range_and_presigned_url(bucket, tmp_path):
    src = _file(tmp_path / "v.mp4", 100_000)
    bucket.put_file(src, "a/v.mp4")
    assert bucket.get_range("a/v.mp4", 10, 19) == src.read_bytes()[10:20]
    url = bucket.presigned_url("a/v.mp4", expires=300)
    answer = requests.get(url, timeout=10)  # no credentials: the signature in the URL is enough
    assert answer.status_code == 200 and answer.content == src.read_bytes()
    assert requests.get(url.split("?")[0], timeout=10).status_code == 403  # the bucket itself is private


def test_create_only_put_refuses_a_second_write(bucket, tmp_path):
    one, two = _file(tmp_path / "1.mp4", 5000, b"1"), _file(tmp_path / "2.mp4", 6000, b"2")
    assert bucket.put_file_create_only(one, "out/x_0.mp4") is True
    assert bucket.put_file_create_only(two, "out/x_0.mp4") is False
    bucket.get_file("out/x_0.mp4", tmp_path / "got.mp4")
    assert (tmp_path / "got.mp4").read_bytes() == one.read_bytes()  # the first write stands


def test_a_file_changing_during_upload_is_not_kept(bucket, tmp_path):
    src = _file(tmp_path / "growing.mp4", 300_000)

    def grow(_n):
        with open(src, "ab") as f:
            f.write(b"more")

    with pytest.raises(StorageError, match="changed while it was uploaded"):
        bucket.put_file(src, "k.mp4", progress=grow)
    assert not bucket.exists("k.mp4")


def test_bad_buckets_are_one_clear_line(s3_endpoint, s3_env):
    with pytest.raises(ConfigError, match="bucket 'no-such-bucket' does not exist"):
        ObjectStore("no-such-bucket", endpoint_url=s3_endpoint, region="us-east-1").check_bucket()
    elsewhere = ObjectStore("bucket-in-eu", endpoint_url=s3_endpoint, region="eu-west-1")
    elsewhere._client.create_bucket(Bucket="bucket-in-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    elsewhere.check_bucket()
    with pytest.raises(ConfigError, match="is in region eu-west-1, not us-east-1"):
        ObjectStore("bucket-in-eu", endpoint_url=s3_endpoint, region="us-east-1").check_bucket()
    with pytest.raises(StorageError, match="does not exist"):
        ObjectStore("no-such-bucket", endpoint_url=s3_endpoint).put_file(__file__, "k")


def test_missing_credentials_are_one_line(s3_endpoint, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConfigError, match="no credentials for http://127.0.0.1"):
        ObjectStore("b-1", endpoint_url=s3_endpoint).head("k")
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="no Alibaba Cloud credentials found"):
        ObjectStore.for_oss("cn-hangzhou", "b-1")


def test_repr_and_errors_hide_secrets(bucket, s3_env, tmp_path):
    text = repr(bucket) + str(bucket)
    assert "test-key-id" not in text and s3_env["AWS_SECRET_ACCESS_KEY"] not in text
    wrong = ObjectStore(bucket.bucket, endpoint_url=bucket.endpoint_url, env={"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(wrong)


def test_urls_name_bucket_and_key():
    assert parse_object_url("oss://b-1/a/b.mp4") == ("b-1", "a/b.mp4")
    assert parse_object_url("s3://b-1/k") == ("b-1", "k")
    assert parse_object_url("https://my-bkt.oss-cn-hangzhou.aliyuncs.com/p/x.mp4") == ("my-bkt", "p/x.mp4")
    assert parse_object_url("https://example.com/x.mp4") is None and parse_object_url("oss://b-1/") is None
    store, key = ObjectStore.from_url("https://my-bkt.oss-cn-hangzhou.aliyuncs.com/p/x.mp4", credentials=_creds())
    assert (store.bucket, store.region, store.flavour, key) == ("my-bkt", "cn-hangzhou", "oss", "p/x.mp4")
    assert store.endpoint_url == "https://oss-cn-hangzhou.aliyuncs.com"
    assert store.url("p/y.mp4") == "https://my-bkt.oss-cn-hangzhou.aliyuncs.com/p/y.mp4"
    assert store._client.meta.config.s3["addressing_style"] == "virtual"
    assert store._client.meta.config.request_checksum_calculation == "when_required"
    assert store.key_for_url("oss://my-bkt/z") == "z" and store.key_for_url("oss://other/z") is None


def _creds():
    from sheet2video.cloud.credentials import Credentials

    return Credentials("id", "secret")


class _FakeOss(http.server.BaseHTTPRequestHandler):
    """Answers PUTs the way OSS does with x-oss-forbid-overwrite: 409 FileAlreadyExists when the key
    exists. moto does not implement the OSS header, so this loopback stand-in checks that we send it
    and read OSS's refusal as "already there"."""

    seen: list = []
    keys: set = set()

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(dict(self.headers))
        if self.headers.get("x-oss-forbid-overwrite") == "true" and self.path in self.keys:
            xml = b"<?xml version='1.0'?><Error><Code>FileAlreadyExists</Code><Message>The object you specified already exists and can not be overwritten.</Message></Error>"
            self.send_response(409)
            self.send_header("Content-Length", str(len(xml)))
            self.end_headers()
            self.wfile.write(xml)
            return
        self.keys.add(self.path)
        self.send_response(200)
        self.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):  # a bucket whose policy refuses us
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


def test_oss_create_only_sends_forbid_overwrite(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-test")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "oss-secret")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeOss)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = ObjectStore("oss-bkt", endpoint_url=f"http://127.0.0.1:{server.server_port}", region="cn-hangzhou", flavour="oss", addressing_style="path")
        src = _file(tmp_path / "o.mp4", 2000)
        assert store.put_file_create_only(src, "out/o_0.mp4") is True
        assert store.put_file_create_only(src, "out/o_0.mp4") is False
        assert all(h.get("x-oss-forbid-overwrite") == "true" for h in _FakeOss.seen)
        assert not any("If-None-Match" in h for h in _FakeOss.seen)
        assert not any("x-amz-checksum-crc32" in {k.lower() for k in h} for h in _FakeOss.seen)  # OSS rejects them
        # ordinary puts on the same store never carry the header
        _FakeOss.seen.clear()
        store._client.put_object(Bucket="oss-bkt", Key="plain", Body=b"1")
        assert "x-oss-forbid-overwrite" not in _FakeOss.seen[0]
        with pytest.raises(ConfigError, match="access denied to bucket 'oss-bkt'"):
            store.check_bucket()
    finally:
        server.shutdown()
        server.server_close()


def test_engine_resolver_reads_its_bucket_and_refuses_others(bucket, tmp_path):
    from sheet2video.engine.media.sources import MediaResolver
    from sheet2video.errors import RenderError

    src = _file(tmp_path / "clip.mp4", 70_000)
    bucket.put_file(src, "p/inputs/clip.mp4")
    resolver = MediaResolver(tmp_path / "root", tmp_path / "cache", objects=bucket)
    for url in (f"oss://{bucket.bucket}/p/inputs/clip.mp4", f"s3://{bucket.bucket}/p/inputs/clip.mp4",
                f"https://{bucket.bucket}.oss-cn-hangzhou.aliyuncs.com/p/inputs/clip.mp4"):
        got = resolver.resolve(url)
        assert got.read_bytes() == src.read_bytes() and got.is_relative_to(tmp_path / "cache")
    with pytest.raises(RenderError, match=f"the engine reads only bucket '{bucket.bucket}'"):
        resolver.resolve("oss://someone-else/p/x.mp4")
    with pytest.raises(RenderError, match="cannot read"):
        resolver.resolve(f"oss://{bucket.bucket}/p/inputs/missing.mp4")
    resolver.validate_input_url(f"oss://{bucket.bucket}/p/inputs/clip.mp4")
    plain = MediaResolver(tmp_path / "root", tmp_path / "cache")
    with pytest.raises(RenderError, match="no bucket"):
        plain.validate_input_url("oss://b-1/x.mp4")
