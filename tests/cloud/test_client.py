"""ImsClient over real loopback HTTP against a scripted, signature-verifying werkzeug server."""

from __future__ import annotations

import json
import random
import socket
import threading
from urllib.parse import parse_qsl, urlencode

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sheet2video.errors import ImsError
from sheet2video.cloud import canonical, signature_check
from sheet2video.cloud.client import ImsClient, region_endpoint
from sheet2video.cloud.credentials import Credentials
from sheet2video.cloud.signature_errors import SignatureError

KEY_ID = "LTAI-test-key"
SECRET = "SuperSecret-0123456789abcdef"
TOKEN = "StsToken-abcdefghijklmnop"

THROTTLED = (400, {"Code": "Throttling.User", "Message": "Request was denied due to user flow control.", "RequestId": "rid-t"})
DROP = "drop"
HANG = "hang"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # keep test output clean
        pass


class ScriptedEngine:
    """Answers each request with the next scripted response, after verifying its V3 signature.

    A script entry is ``(status, json_or_text_body[, headers])``, ``DROP`` (close the connection
    without answering) or ``HANG`` (wait until released, so the client's read timeout fires)."""

    def __init__(self):
        self.script: list = []
        self.default = (200, {"RequestId": "rid-default", "JobId": "job-default", "EditingBatchJob": {"JobId": "job-default"}})
        self.requests: list[dict] = []
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        req = Request(environ)
        body = req.get_data()
        record = {
            "action": req.headers.get("x-acs-action"),
            "version": req.headers.get("x-acs-version"),
            "raw_query": environ.get("QUERY_STRING", ""),
            "query": req.args.to_dict(),
            "body": body,
            "form": dict(parse_qsl(body.decode(), keep_blank_values=True)),
            "headers": {k.lower(): v for k, v in req.headers.items()},
        }
        try:
            signature_check.verify_request(req.method, req.path, req.args.to_dict(), req.headers, body, {KEY_ID: SECRET}.get)
            record["verified"] = True
        except SignatureError as exc:
            record["verified"] = False
            record["error"] = exc.code
        with self._lock:
            self.requests.append(record)
            step = self.script.pop(0) if self.script else self.default
        if not record["verified"]:
            step = (400, {"Code": record["error"], "Message": "bad signature", "RequestId": "rid-sig"})
        if step == DROP:
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("dropped by the test")  # werkzeug treats it as a dropped client
        if step == HANG:
            self.release.wait(10)
            step = self.default
        status, payload, *rest = step
        headers = rest[0] if rest else {}
        if isinstance(payload, (dict, list)):
            resp = Response(json.dumps(payload), status=status, mimetype="application/json", headers=headers)
        else:
            resp = Response(payload, status=status, mimetype="text/html", headers=headers)
        return resp(environ, start_response)


@pytest.fixture
def engine():
    app = ScriptedEngine()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield app
    finally:
        app.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


class _Recorder:
    def __init__(self):
        self.delays: list[float] = []

    def __call__(self, seconds):
        self.delays.append(seconds)


class _UpperBound(random.Random):
    """Makes full jitter deterministic: always the cap."""

    def uniform(self, a, b):
        return b


def make_client(engine, creds=None, **kw):
    sleeper = _Recorder()
    kw.setdefault("sleep", sleeper)
    client = ImsClient(engine.url, creds or Credentials(KEY_ID, SECRET), **kw)
    return client, sleeper


def test_region_endpoint():
    assert region_endpoint("cn-shanghai") == "https://ice.cn-shanghai.aliyuncs.com"
    assert region_endpoint("ap-southeast-1") == "https://ice.ap-southeast-1.aliyuncs.com"
    with pytest.raises(ValueError):
        region_endpoint("")


def test_throttling_twice_then_success_reuses_client_token(engine):
    engine.script = [THROTTLED, THROTTLED, (200, {"RequestId": "rid-ok", "JobId": "job-1"})]
    client, sleeper = make_client(engine)
    job_id = client.submit_batch_job(input_config={"MediaGroupArray": []}, output_config={"Count": 1})
    assert job_id == "job-1"
    assert len(engine.requests) == 3
    assert all(r["verified"] for r in engine.requests)
    tokens = {r["query"]["ClientToken"] for r in engine.requests}
    assert len(tokens) == 1 and len(tokens.pop()) == 32
    nonces = [r["headers"]["x-acs-signature-nonce"] for r in engine.requests]
    assert len(set(nonces)) == 3
    assert len(sleeper.delays) == 2


def test_http_503_then_success(engine):
    job = {"JobId": "job-2", "Status": "Finished", "SubJobList": []}
    engine.script = [(503, "<html>Service Unavailable</html>"), (200, {"RequestId": "r", "EditingBatchJob": job})]
    client, sleeper = make_client(engine)
    assert client.get_batch_job("job-2") == job
    assert len(engine.requests) == 2 and len(sleeper.delays) == 1
    assert engine.requests[0]["query"] == {"JobId": "job-2"} and engine.requests[0]["body"] == b""


def test_dropped_connection_then_success(engine):
    engine.script = [DROP, (200, {"RequestId": "r", "JobId": "job-3"})]
    client, sleeper = make_client(engine)
    assert client.submit_batch_job(input_config="{}", output_config="{}", client_token="tok-3") == "job-3"
    assert len(engine.requests) == 2 and len(sleeper.delays) == 1
    assert [r["query"]["ClientToken"] for r in engine.requests] == ["tok-3", "tok-3"]


def test_read_timeout_then_success(engine):
    engine.script = [HANG, (200, {"RequestId": "r", "EditingBatchJob": {"JobId": "j"}})]
    client, sleeper = make_client(engine, timeout=(5, 0.3))
    try:
        assert client.get_batch_job("j") == {"JobId": "j"}
    finally:
        engine.release.set()
    assert len(engine.requests) == 2 and len(sleeper.delays) == 1


def test_non_retryable_error_raises_at_once(engine):
    engine.script = [(400, {"Code": "InvalidParameter", "Message": "The OutputConfig is invalid.", "RequestId": "rid-42", "HostId": "ice"})]
    client, sleeper = make_client(engine)
    with pytest.raises(ImsError) as ei:
        client.submit_batch_job(input_config="{}", output_config="{}")
    err = ei.value
    assert (err.code, err.message, err.request_id, err.http_status) == ("InvalidParameter", "The OutputConfig is invalid.", "rid-42", 400)
    assert str(err) == "InvalidParameter: The OutputConfig is invalid. (RequestId rid-42)"
    assert len(engine.requests) == 1 and sleeper.delays == []


def test_non_json_error_body(engine):
    engine.script = [(404, "<html><body>Not   Found</body></html>", {"x-acs-request-id": "rid-h"})]
    client, _ = make_client(engine)
    with pytest.raises(ImsError) as ei:
        client.call("GetMediaInfo", query={"MediaId": "m"})
    err = ei.value
    assert err.code == "HTTP404" and err.http_status == 404 and err.request_id == "rid-h"
    assert "404" in err.message and "Not Found" in err.message
    assert len(engine.requests) == 1


def test_retries_exhausted_raises_last_error(engine):
    engine.script = [(500, {"Code": "InternalError", "Message": f"boom {i}", "RequestId": f"rid-{i}"}) for i in range(10)]
    client, sleeper = make_client(engine, max_retries=3)
    with pytest.raises(ImsError) as ei:
        client.get_batch_job("j")
    assert ei.value.code == "InternalError" and ei.value.message == "boom 3" and ei.value.request_id == "rid-3"
    assert ei.value.http_status == 500
    assert len(engine.requests) == 4 and len(sleeper.delays) == 3


def test_connection_refused_exhausted():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeper = _Recorder()
    client = ImsClient(f"http://127.0.0.1:{port}", Credentials(KEY_ID, SECRET), max_retries=2, sleep=sleeper)
    with pytest.raises(ImsError) as ei:
        client.get_batch_job("j")
    assert ei.value.code == "ConnectionError" and f"127.0.0.1:{port}" in ei.value.message
    assert len(sleeper.delays) == 2
    assert SECRET not in str(ei.value)


def test_backoff_grows_and_is_capped(engine):
    engine.script = [THROTTLED] * 6
    client, sleeper = make_client(engine, max_retries=6, backoff_base=0.5, backoff_max=4, rng=_UpperBound())
    client.get_batch_job("j")
    assert sleeper.delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_full_jitter_stays_within_cap(engine):
    engine.script = [THROTTLED] * 8
    client, sleeper = make_client(engine, max_retries=8, backoff_base=0.5, backoff_max=3, rng=random.Random(7))
    client.get_batch_job("j")
    caps = [min(3, 0.5 * 2**n) for n in range(8)]
    assert len(sleeper.delays) == 8
    assert all(0 <= d <= cap for d, cap in zip(sleeper.delays, caps))
    assert len(set(sleeper.delays)) > 1  # jittered, not a constant


def test_retry_after_header_is_honoured(engine):
    engine.script = [(400, {"Code": "Throttling.Api", "Message": "slow down", "RequestId": "r"}, {"x-acs-retry-after": "7"})]
    client, sleeper = make_client(engine, rng=_UpperBound())
    client.get_batch_job("j")
    assert sleeper.delays == [7.0]
    assert len(engine.requests) == 2


def test_parameters_travel_in_query_and_body(engine):
    engine.default = (200, {"RequestId": "r", "JobId": "job-p"})
    client, _ = make_client(engine)
    output = {"MediaURL": "https://b.oss-cn-shanghai.aliyuncs.com/out_{index}.mp4", "Count": 2}
    user_data = '{"NotifyAddress":"https://x.example/cb?a=1&b=two words*"}'
    client.submit_batch_job(
        input_config={"MediaGroupArray": [{"GroupName": "G1", "MediaArray": ["m1"]}], "SpeechTextArray": ["你好 world"]},
        editing_config={"SpeechConfig": {"Volume": 1}},
        output_config=output,
        user_data=user_data,
        template_config=["tpl-1"],
        client_token="token-abc",
    )
    r = engine.requests[-1]
    assert r["verified"] and r["action"] == "SubmitBatchMediaProducingJob" and r["version"] == "2020-11-09"
    expected_query = {
        "ClientToken": "token-abc",
        "OutputConfig": json.dumps(output, separators=(",", ":")),
        "TemplateConfig": '["tpl-1"]',
        "UserData": user_data,
    }
    assert r["query"] == expected_query
    assert r["raw_query"] == canonical.canonical_query_string(expected_query)  # sent exactly as signed
    expected_form = {
        "EditingConfig": '{"SpeechConfig":{"Volume":1}}',
        "InputConfig": '{"MediaGroupArray":[{"GroupName":"G1","MediaArray":["m1"]}],"SpeechTextArray":["你好 world"]}',
    }
    assert r["form"] == expected_form
    assert r["body"] == urlencode(sorted(expected_form.items())).encode()
    assert r["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert r["headers"]["accept"] == "application/json"
    assert r["headers"]["x-acs-content-sha256"] == canonical.sha256_hex(r["body"])
    assert "Action" not in r["query"] and "Version" not in r["query"]


def test_absent_parameters_are_omitted(engine):
    engine.default = (200, {"RequestId": "r", "JobId": "job-q"})
    client, _ = make_client(engine)
    client.submit_batch_job(input_config="{}", output_config="{}")
    r = engine.requests[-1]
    assert set(r["query"]) == {"ClientToken", "OutputConfig"}
    assert r["form"] == {"InputConfig": "{}"}


def test_list_register_and_get_media_placement(engine):
    client, _ = make_client(engine)
    engine.default = (200, {"RequestId": "r", "EditingBatchJobList": [], "NextToken": "nt", "MaxResults": 50})
    out = client.list_batch_jobs(status="Failed", max_results=50, NextToken="n1", sort_by=None)
    assert out["NextToken"] == "nt"
    r = engine.requests[-1]
    assert r["action"] == "ListBatchMediaProducingJobs"
    assert r["query"] == {"Status": "Failed", "MaxResults": "50", "NextToken": "n1"} and r["body"] == b""
    assert "content-type" not in r["headers"]
    with pytest.raises(TypeError):
        client.list_batch_jobs(page_size=10)

    engine.default = (200, {"RequestId": "r", "MediaId": "media-1"})
    media_id = client.register_media_info(
        "https://b.oss-cn-shanghai.aliyuncs.com/a.mp4", media_type="video", overwrite=True, register_config={"NeedSprite": "false"}
    )
    assert media_id == "media-1"
    r = engine.requests[-1]
    assert r["action"] == "RegisterMediaInfo" and r["verified"] and r["body"] == b""
    assert r["query"]["InputURL"] == "https://b.oss-cn-shanghai.aliyuncs.com/a.mp4"
    assert r["query"]["MediaType"] == "video" and r["query"]["Overwrite"] == "true"
    assert r["query"]["RegisterConfig"] == '{"NeedSprite":"false"}'
    assert len(r["query"]["ClientToken"]) == 32

    engine.default = (200, {"RequestId": "r", "MediaInfo": {"MediaId": "media-1", "MediaBasicInfo": {"Status": "Normal"}}})
    assert client.get_media_info(media_id="media-1")["MediaId"] == "media-1"
    assert engine.requests[-1]["query"] == {"MediaId": "media-1"}
    client.get_media_info(input_url="oss://b/a.mp4")
    assert engine.requests[-1]["query"] == {"InputURL": "oss://b/a.mp4"}
    with pytest.raises(ValueError):
        client.get_media_info()


def test_sts_headers_are_sent_and_signed(engine):
    engine.default = (200, {"RequestId": "r", "EditingBatchJob": {"JobId": "j"}})
    client, _ = make_client(engine, creds=Credentials(KEY_ID, SECRET, TOKEN))
    client.get_batch_job("j")
    r = engine.requests[-1]
    assert r["verified"]
    assert r["headers"]["x-acs-security-token"] == TOKEN and r["headers"]["x-acs-accesskey-id"] == KEY_ID
    assert "x-acs-security-token" in r["headers"]["authorization"]


def test_wrong_secret_is_rejected_by_the_server(engine):
    client, sleeper = make_client(engine, creds=Credentials(KEY_ID, "not-the-secret"))
    with pytest.raises(ImsError) as ei:
        client.get_batch_job("j")
    assert ei.value.code == "SignatureDoesNotMatch" and sleeper.delays == []


def test_secret_never_in_errors_or_reprs(engine):
    creds = Credentials(KEY_ID, SECRET, TOKEN)
    # a misbehaving server that echoes the secret and token back must not leak them either
    engine.script = [(400, {"Code": "InvalidParameter", "Message": f"bad key {SECRET} / {TOKEN}", "RequestId": "r"})]
    client, _ = make_client(engine, creds=creds)
    with pytest.raises(ImsError) as ei:
        client.submit_batch_job(input_config="{}", output_config="{}")
    texts = [str(ei.value), repr(ei.value), repr(ei.value.args), ei.value.message, repr(client), str(client)]
    for text in texts:
        assert SECRET not in text and TOKEN not in text
    assert "bad key ***" in ei.value.message


def test_secret_never_logged(engine, caplog):
    caplog.set_level("DEBUG")
    engine.script = [THROTTLED]
    client, _ = make_client(engine, creds=Credentials(KEY_ID, SECRET, TOKEN))
    client.get_batch_job("j")
    assert caplog.records, "a retry should be logged"
    assert SECRET not in caplog.text and TOKEN not in caplog.text
