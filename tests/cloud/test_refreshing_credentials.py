"""Credentials that expire during a run: a credentials URI and the ECS metadata service on loopback
hand out STS tokens that live about two seconds; the IMS client and object storage keep working."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from sheet2video.cloud.client import ImsClient
from sheet2video.cloud.credentials import RefreshingSource, resolve_credentials
from sheet2video.cloud.storage import ObjectStore
from sheet2video.errors import ImsError
from tests.cloud.sts_standins import METADATA_TOKEN, ROLE, EcsMetadata, ImsStandIn, Loopback, TokenIssuer

URI = "ALIBABA_CLOUD_CREDENTIALS_URI"


@pytest.fixture
def issuer():
    # a token is handed out only while it has at least 1.5 s left: a request signed with it reaches the
    # stand-in well within that on a loaded machine, so no request meets an expired token by chance
    return TokenIssuer(lifetime=2, reissue_below=1.5)


@pytest.fixture
def uri_server(issuer):
    server = Loopback(issuer.uri_handler)
    yield server
    server.close()


@pytest.fixture
def ims(issuer):
    stand_in = ImsStandIn(issuer)
    server = Loopback(stand_in.handler)
    server.stand_in = stand_in
    yield server
    server.close()


def test_ims_requests_outlive_three_tokens(issuer, uri_server, ims, tmp_path):
    source = resolve_credentials(env={URI: uri_server.url + "/sts"}, home=tmp_path)
    assert isinstance(source, RefreshingSource)
    client = ImsClient(ims.url, source, max_retries=0)
    started = time.monotonic()
    # until three tokens have lived and died during the run (each lives at most `lifetime` seconds)
    while len(issuer.minted) < 5 or time.monotonic() - started < 3 * issuer.lifetime:
        client.list_batch_jobs(max_results=10)
        assert time.monotonic() - started < 120, "the issuer never rotated"
    elapsed = time.monotonic() - started
    seen = ims.stand_in.seen
    assert ims.stand_in.rejected == []  # every request: a valid signature with a token valid when it arrived
    last = seen[-1]["at"]
    expired_during_run = [k for k in issuer.minted if issuer.tokens[k][2] <= last]
    assert len(expired_during_run) >= 3
    tokens = [s["token"] for s in seen]
    assert len(set(tokens)) >= 4
    for before, after in zip(seen, seen[1:]):
        if before["token"] != after["token"]:  # a new token is a new key pair: the signature follows it
            assert before["key_id"] != after["key_id"] and before["signature"] != after["signature"]
    print(f"\nMEASURED: {len(set(tokens))} tokens ({len(expired_during_run)} expired mid-run), {len(seen)} IMS requests, "
          f"{elapsed:.1f} s, {issuer.fetches} credential fetches")
    for text in (repr(source), str(source), repr(client), repr(source.current())):
        assert not any(secret in text for secret in issuer.all_secrets())


def cloud_sheet(tmp_path, uri_server):
    """Three rows of media IDs with OSS outputs, and an environment whose only credentials are the URI."""
    out = "https://my-bucket.oss-cn-shanghai.aliyuncs.com/campaign/{index}.mp4"
    rows = "".join(f"r{i},{uuid.uuid4().hex},{uuid.uuid4().hex},{out},180,320,2,1\n" for i in range(3))
    sheet = tmp_path / "cloud.csv"
    sheet.write_text("id,media:A,media:B,output,width,height,max_duration,shot_duration\n" + rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env.update(HOME=str(tmp_path), **{URI: uri_server.url + "/sts"})
    return sheet, env


def test_a_whole_run_outlives_three_tokens(issuer, uri_server, ims, tmp_path):
    """`sheet2video run --backend aliyun`, waiting for its jobs, lasts longer than three tokens live."""
    ims.stand_in.finish_after = 4 * issuer.lifetime  # each job renders for four tokens' lives
    sheet, env = cloud_sheet(tmp_path, uri_server)
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "sheet2video", "run", str(sheet), "--backend", "aliyun", "--region",
                           "cn-shanghai", "--endpoint", ims.url, "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["finished"] == 3
    seen = ims.stand_in.seen
    assert ims.stand_in.rejected == []  # every request signed with a token valid when it arrived
    expired = [k for k in issuer.minted if started < issuer.tokens[k][2] <= seen[-1]["at"]]
    assert len(expired) >= 3, f"only {len(expired)} tokens expired during the run"
    assert len({s["token"] for s in seen}) >= 4
    assert "Finished" in sheet.read_text()
    print(f"\nMEASURED: a run of {seen[-1]['at'] - started:.1f} s, {len(seen)} IMS requests, "
          f"{len({s['token'] for s in seen})} tokens ({len(expired)} expired mid-run)")


@pytest.fixture
def metadata(issuer, monkeypatch):
    """The ECS metadata stand-in; the official provider's fixed address is pointed at it (this test only)."""
    from alibabacloud_credentials.provider import EcsRamRoleCredentialsProvider

    service = EcsMetadata(issuer)
    server = Loopback(service.handler)
    original = EcsRamRoleCredentialsProvider.__init__

    def pointed(self, *args, **kw):
        original(self, *args, **kw)
        self._EcsRamRoleCredentialsProvider__metadata_service_host = server.host

    monkeypatch.setattr(EcsRamRoleCredentialsProvider, "__init__", pointed)
    yield service
    server.close()


@pytest.mark.parametrize("how", ["environment", "credentials file", "aliyun CLI"])
def test_ecs_ram_role_from_the_metadata_service(metadata, issuer, tmp_path, how):
    env = {"ALIBABA_CLOUD_ECS_METADATA": ROLE}
    if how == "credentials file":
        env = {"ALIBABA_CLOUD_CREDENTIALS_FILE": str(tmp_path / "credentials")}
        (tmp_path / "credentials").write_text("[default]\ntype = ecs_ram_role\n")  # no role name: asks the service
    if how == "aliyun CLI":
        env = {}
        (tmp_path / ".aliyun").mkdir()
        profile = {"name": "default", "mode": "EcsRamRole", "ram_role_name": ROLE}
        (tmp_path / ".aliyun" / "config.json").write_text(json.dumps({"current": "default", "profiles": [profile]}))
    source = resolve_credentials(env=env, home=tmp_path)
    first = source.current()
    # the token the service handed out last (a token is handed out only while 1.5 s of it remain)
    assert first.access_key_id == issuer.minted[-1] and first.security_token == issuer.tokens[first.access_key_id][1]
    # the library's profile wrappers drop the expiry (storage then asks the caching source again each minute)
    assert first.expiration == (issuer.tokens[first.access_key_id][2] if how != "aliyun CLI" else None)
    deadline = time.monotonic() + 60
    while source.current().access_key_id == first.access_key_id:  # refreshed once the token nears its end
        assert time.monotonic() < deadline, "never refreshed"
    assert all(token == METADATA_TOKEN for method, path, token in metadata.requests if method == "GET")  # IMDSv2
    assert (how == "credentials file") == any(path.endswith("/security-credentials/") for _, path, _ in metadata.requests)


@pytest.mark.parametrize("mode, reason", [
    ("403", "HTTP 403"),
    ("500", "HTTP 500"),
    ("not-json", "not JSON"),
    ("missing", "malformed"),
    ("expired", "expired"),
])
def test_refused_or_malformed_answers_are_one_line_exit_4(issuer, uri_server, tmp_path, mode, reason):
    issuer.mode = mode
    with pytest.raises(ImsError) as ei:
        resolve_credentials(env={URI: uri_server.url + "/sts?secret=in-query"}, home=tmp_path)
    text = str(ei.value)
    assert ei.value.exit_code == 4 and text.startswith("CredentialsUnavailable: ") and reason in text
    assert "\n" not in text and "in-query" not in text
    assert not any(secret in text for secret in issuer.all_secrets())


def test_a_refusal_mid_run_stops_it_and_the_rerun_resends_the_same_client_token(issuer, uri_server, ims, tmp_path):
    sheet, env = cloud_sheet(tmp_path, uri_server)

    def run():
        return subprocess.run([sys.executable, "-m", "sheet2video", "run", str(sheet), "--backend", "aliyun", "--region",
                               "cn-shanghai", "--endpoint", ims.url, "--no-wait", "--json"],
                              capture_output=True, text=True, env=env, timeout=300)

    def refuse():
        issuer.mode = "500"

    ims.stand_in.on_submit = refuse  # the credential service fails right after the first job was taken
    first = run()
    assert first.returncode == 4, first.stderr
    lines = [line for line in first.stderr.splitlines() if "CredentialsUnavailable" in line]
    assert len(lines) == 1 and "HTTP 500" in lines[0] and "Traceback" not in first.stderr
    assert not any(secret in first.stderr + first.stdout for secret in issuer.all_secrets())
    assert len(ims.stand_in.client_tokens) == 1
    ledger = next((tmp_path / ".sheet2video").glob("*.ledger.sqlite3"))
    with sqlite3.connect(ledger) as db:
        pending = [t for (t,) in db.execute("SELECT client_token FROM jobs WHERE status = 'Submitting'")]
    assert len(pending) == 1  # the job being sent when the credentials failed: never half-submitted

    issuer.mode, ims.stand_in.on_submit = "ok", None
    second = run()
    assert second.returncode == 0, second.stdout + second.stderr
    assert json.loads(second.stdout)["submitted"] == 2
    sent_again = ims.stand_in.client_tokens[1:]
    assert pending[0] in sent_again  # the same ClientToken: IMS would answer the same job
    assert len(set(ims.stand_in.client_tokens)) == 3  # one job per row across both runs


def test_storage_outlives_tokens(issuer, uri_server, s3_endpoint, tmp_path):
    from alibabacloud_credentials.provider import URLCredentialsProvider

    source = RefreshingSource(URLCredentialsProvider(uri=uri_server.url + "/sts"), "test credentials URI")
    store = ObjectStore(f"t-{uuid.uuid4().hex[:12]}", endpoint_url=s3_endpoint, region="us-east-1", credentials=source)
    sent: list[tuple[float, str, str]] = []

    def capture(request, **_):
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        token = request.headers.get("X-Amz-Security-Token", b"")
        sent.append((time.time(), auth.split("Credential=", 1)[1].split("/", 1)[0], token.decode() if isinstance(token, bytes) else token))

    store._client.meta.events.register("before-send.s3", capture)
    store._client.create_bucket(Bucket=store.bucket)
    payload = tmp_path / "clip.bin"
    started, n = time.monotonic(), 0
    while len(issuer.minted) < 4 or time.monotonic() - started < 2 * issuer.lifetime:
        body = f"object {n}".encode() * 100
        payload.write_bytes(body)
        store.put_file(payload, f"k/{n}.bin")
        assert store.get_range(f"k/{n}.bin", 0, 9) == body[:10]
        n += 1
        assert time.monotonic() - started < 120, "the issuer never rotated"
    store.get_file("k/0.bin", tmp_path / "back.bin")  # the first object, read with a later token
    assert (tmp_path / "back.bin").read_bytes() == b"object 0" * 100
    for at, key_id, token in sent:  # every request carried the token valid when it left
        assert issuer.valid(key_id, token, at), (key_id, at)
    assert len({key_id for _, key_id, _ in sent}) >= 4


def test_an_hour_long_token_is_fetched_once_for_many_requests(uri_server, ims, tmp_path):
    ims.stand_in.issuer.lifetime = 3600  # a real STS token: cached until 15 minutes before it expires
    client = ImsClient(ims.url, resolve_credentials(env={URI: uri_server.url + "/sts"}, home=tmp_path), max_retries=0)
    for _ in range(20):
        client.list_batch_jobs()
    assert ims.stand_in.issuer.fetches == 1 and len(ims.stand_in.seen) == 20
