"""The outbound policy (engine/outbound.py): which addresses a caller may make the engine reach,
in every spelling, resolved once, connected to exactly what was checked, redirects checked again.

Names are resolved through the policy's resolver hook (never /etc/hosts or DNS); requests go to a
LoggingServer on loopback, opened for the test by CIDR or by port.
"""

import datetime
import ipaddress
import socket
import ssl
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sheet2video.engine.outbound import (LOCAL_NETWORKS, UNIFORM, Opening, OutboundError, OutboundPolicy, Refused,
                                         refusal)
from tests.reliability.hostile import LoggingServer, logging_server

PUBLIC = "93.184.215.14"  # a public address (never contacted: only checked)


class Names:
    """A resolver hook: name → addresses; records every lookup; a name it does not know fails."""

    def __init__(self, **answers):
        self.answers = {name.replace("_", "."): value for name, value in answers.items()}
        self.asked: list[str] = []

    def __call__(self, name: str, port: int) -> list[str]:
        self.asked.append(name)
        answer = self.answers.get(name)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answer() if callable(answer) else list(answer)


@pytest.fixture
def no_system_dns(monkeypatch):
    """socket.getaddrinfo answers literal addresses only: whoever connects must not look a name up."""
    real = socket.getaddrinfo

    def literal_only(host, *args, **kw):
        ipaddress.ip_address(host.split("%")[0] if isinstance(host, str) else host.decode())  # ValueError for a name
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", literal_only)


# ---------------------------------------------------------------- what is refused, in every spelling

REFUSED_URLS = [
    "http://127.0.0.1/", "http://127.255.255.254:8080/x", "http://[::1]/", "http://[::1]:9/",
    "http://10.1.2.3/", "http://172.16.0.1/", "http://172.31.255.255/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://100.127.255.255/",
    "http://0.0.0.0/", "http://0/", "http://[::]/", "http://224.0.0.1/", "http://255.255.255.255/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::ffff:169.254.169.254]/", "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/", "http://[fd12:3456::1]/", "http://[ff02::1]/", "http://[fec0::1]/",
    # IPv4 as inet_aton reads it: decimal, hex, octal, short forms, a trailing dot
    "http://2130706433/", "http://0x7f000001/", "http://0x7f.1/", "http://0x7f.0.0.1/", "http://127.1/",
    "http://127.0.1/", "http://0177.0.0.1/", "http://017700000001/", "http://127.0.0.1./", "http://0x7F.1/",
    "http://0xa9.0xfe.0xa9.0xfe/", "http://2852039166/",  # 169.254.169.254
    # userinfo and case tricks: the host is what follows the last @
    "http://good@127.0.0.1/", "http://good.example:80@127.0.0.1/", "http://user:pass@[::1]:80/", "HTTP://127.0.0.1/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_every_spelling_of_a_local_address_is_refused_without_a_lookup(url):
    names = Names()
    with pytest.raises(Refused):
        OutboundPolicy(resolver=names).target(url)
    assert names.asked == []  # a numeric host is an address, never a name to look up


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["::1"], ["10.0.0.5"], ["169.254.169.254"], ["100.64.1.1"],
                                    ["0.0.0.0"], ["::ffff:127.0.0.1"], ["fd00::1"], [PUBLIC, "127.0.0.1"]])
def test_a_name_resolving_to_a_local_address_is_refused(answer):
    names = Names(localhost=answer, media_example=answer)
    for url in ("http://localhost/a.mp4", "http://LOCALHOST:80/a.mp4", "https://media.example/a.mp4",
                "http://media.example./a.mp4", "http://x@media.example/"):
        with pytest.raises(Refused, match="refused"):
            OutboundPolicy(resolver=names).target(url)
    assert set(names.asked) == {"localhost", "media.example"}  # resolved once per check, by our hook


@pytest.mark.parametrize("url", ["ftp://media.example/a.mp4", "file:///etc/passwd", "gopher://media.example/",
                                 "data:,x", "http:///a.mp4", "http://[::1/", "http://media.example:99999/",
                                 "http://media.example:x/", "http://bad host/", "http://a..b/", "http://256.1/"])
def test_only_http_and_https_urls_with_a_real_host(url):
    with pytest.raises(Refused, match="not a URL the engine fetches"):
        OutboundPolicy(resolver=Names(media_example=[PUBLIC])).target(url)


def test_a_public_address_is_a_target_named_as_the_url_names_it():
    names = Names(media_example=[PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    target = OutboundPolicy(resolver=names).target("https://user@Media.Example:8443/a%20b.mp4?x=1#frag")
    assert (target.scheme, target.name, target.port, target.path) == ("https", "media.example", 8443, "/a%20b.mp4?x=1")
    assert target.addresses == (PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert target.host_header == "media.example:8443"
    assert OutboundPolicy().target(f"http://{PUBLIC}").host_header == PUBLIC
    assert refusal(ipaddress.ip_address(PUBLIC)) is None
    assert refusal(ipaddress.ip_address("169.254.169.254")) == "link-local"
    assert refusal(ipaddress.ip_address("::ffff:8.8.8.8")) == "IPv4-mapped"  # mapped: refused even when public


def test_a_name_that_does_not_resolve_is_an_error_but_not_a_refusal():
    with pytest.raises(OutboundError, match="does not resolve") as caught:
        OutboundPolicy(resolver=Names()).target("http://nowhere.example/")
    assert not isinstance(caught.value, Refused)


# ---------------------------------------------------------------- what an admin opens

def test_openings_open_exactly_what_they_name():
    names = Names(minio_internal=["10.0.0.5"], other_internal=["10.0.0.5"], hook_internal=["127.0.0.1"], localhost=["127.0.0.1"])
    policy = OutboundPolicy(["10.0.0.5:9000", "fd00::/8", "hook.internal", "[::1]:8080", "192.168.0.0/16"], resolver=names)
    for url in ("http://10.0.0.5:9000/a", "http://minio.internal:9000/a", "http://other.internal:9000/",
                "http://[fd00::5]/", "https://[fd12::1]:443/", "http://hook.internal/", "http://hook.internal:1234/",
                "http://[::1]:8080/cb", "http://192.168.7.7/", "http://0xc0a80707:81/"):
        policy.target(url)
    for url in ("http://10.0.0.5/a", "http://10.0.0.5:9001/a", "http://minio.internal/a", "http://10.0.0.6:9000/",
                "http://[::1]/", "http://[::1]:8081/", "http://127.0.0.1/", "http://localhost/",
                "http://[fc00::1]/", "http://[::ffff:10.0.0.5]:9000/", "http://169.254.169.254/"):
        with pytest.raises(Refused):
            policy.target(url)
    assert OutboundPolicy(["127.0.0.1/32"]).target("http://127.1:5/").addresses == ("127.0.0.1",)


@pytest.mark.parametrize("entry", ["", "10.0.0.5:99999", "10.0.0.5:0", "[::1]:x", "not a host", "a/b", "10.0.0.0/33", "::1:80:x/"])
def test_a_bad_opening_says_why(entry):
    with pytest.raises(ValueError, match="port|neither"):
        Opening.parse(entry)


def test_the_embedded_engines_local_networks():
    policy = OutboundPolicy(LOCAL_NETWORKS)
    for url in ("http://127.0.0.1:8080/", "http://[::1]/", "http://10.1.1.1/", "http://172.20.0.2/", "http://192.168.1.10/",
                "http://100.100.100.100/", "http://[fd7a:115c:a1e0::1]/"):
        policy.target(url)
    for url in ("http://169.254.169.254/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/",
                "http://224.0.0.1/"):
        with pytest.raises(Refused):
            policy.target(url)


# ---------------------------------------------------------------- requests: pinned, re-checked, uniform

def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(logging_server, no_system_dns):
    logging_server.routes["/a.mp4"] = (200, {"Content-Type": "video/mp4"}, b"media")
    flips = iter([["127.0.0.1"]] + [["169.254.169.254"]] * 10)  # a rebinding DNS: safe first, then the metadata service
    names = Names(media_example=lambda: next(flips))
    policy = OutboundPolicy(["127.0.0.1/32"], resolver=names)
    with policy.request("GET", logging_server.url("/a.mp4", host="media.example")) as answer:
        assert (answer.status, answer.read()) == (200, b"media")
    assert names.asked == ["media.example"]  # once: nobody looked the name up again to connect
    assert logging_server.hits("/a.mp4")[0].headers["Host"] == f"media.example:{logging_server.port}"
    with pytest.raises(Refused, match="169.254.169.254"):  # the next request resolves again, and is refused
        with policy.request("GET", logging_server.url("/a.mp4", host="media.example")):
            pass
    assert len(logging_server.hits()) == 1


def test_every_redirect_is_checked_again(logging_server):
    other = LoggingServer()
    try:
        policy = OutboundPolicy([f"127.0.0.1:{logging_server.port}"], resolver=Names(localhost=["127.0.0.1"]))  # this port only
        for n, location in enumerate([other.url("/x"), f"http://[::ffff:127.0.0.1]:{logging_server.port}/x",
                                      f"http://localhost:{other.port}/x", "file:///etc/passwd", "gopher://127.0.0.1/"]):
            logging_server.routes[f"/r{n}"] = (302, {"Location": location}, b"")
            with pytest.raises(Refused):
                with policy.request("GET", logging_server.url(f"/r{n}")):
                    pass
        assert other.hits() == [] and [h.path for h in logging_server.hits()] == [f"/r{n}" for n in range(5)]
    finally:
        other.close()


def test_redirects_are_followed_by_us_five_at_most(logging_server):
    for n in range(7):
        logging_server.routes[f"/hop{n}"] = (307 if n % 2 else 301, {"Location": f"/hop{n + 1}"}, b"")
    logging_server.routes["/hop6"] = (200, {}, b"arrived")
    policy = OutboundPolicy(["127.0.0.1/32"])
    with policy.request("GET", logging_server.url("/hop1")) as answer:  # five redirects: followed
        assert answer.read() == b"arrived"
    with pytest.raises(OutboundError, match="more than 5 redirects"):
        with policy.request("GET", logging_server.url("/hop0")):
            pass
    with policy.request("POST", logging_server.url("/hop5"), body=b"{}", redirects=0) as answer:  # a callback: not followed
        assert answer.status == 307
    logging_server.routes["/seeother"] = (303, {"Location": "/hop6"}, b"")
    with policy.request("POST", logging_server.url("/seeother"), body=b"{}") as answer:
        assert answer.read() == b"arrived" and logging_server.hits("/hop6")[-1].method == "GET"


def test_a_closed_port_is_an_error_not_a_refusal():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/"
    with pytest.raises(OutboundError, match="Connection refused") as caught:
        with OutboundPolicy(["127.0.0.1"]).request("GET", url, timeout=(2, 2)):
            pass
    assert not isinstance(caught.value, Refused)
    policy = OutboundPolicy()
    assert policy.said(url, "detail") == UNIFORM.format(url=url)
    assert OutboundPolicy(explain=True).said(url, "detail") == "detail"


def _certificate(folder, name):
    """A self-signed certificate for ``name`` (its own CA) and its key, as PEM files."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


def test_https_is_pinned_and_still_verifies_the_name(tmp_path, monkeypatch, no_system_dns):
    cert, key = _certificate(tmp_path, "media.example")
    seen = []

    def app(environ, start_response):
        seen.append(Request(environ).headers.get("Host"))
        return Response(b"secure")(environ, start_response)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    sni = []
    context.sni_callback = lambda sock, name, ctx: sni.append(name)
    https = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    threading.Thread(target=https.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        names = Names(media_example=["127.0.0.1"], evil_example=["127.0.0.1"])
        policy = OutboundPolicy(["127.0.0.1/32"], resolver=names)
        with policy.request("GET", f"https://media.example:{https.server_port}/") as answer:
            assert answer.read() == b"secure"
        assert sni == ["media.example"] and seen == [f"media.example:{https.server_port}"]
        with pytest.raises(OutboundError, match="SSL|certificate|hostname"):  # the name, not the address, is verified
            with policy.request("GET", f"https://evil.example:{https.server_port}/"):
                pass
        assert len(seen) == 1
    finally:
        https.shutdown()
        https.server_close()


def test_a_path_is_sent_percent_encoded_as_requests_sent_it(logging_server):
    logging_server.routes["/视频/a b.mp4"] = (200, {}, b"found")
    with OutboundPolicy(["127.0.0.1"]).request("GET", logging_server.url("/视频/a b.mp4?q=é&x=%20")) as answer:
        assert answer.read() == b"found"
    assert OutboundPolicy().target(f"http://{PUBLIC}/视频/a b.mp4?q=é").path == "/%E8%A7%86%E9%A2%91/a%20b.mp4?q=%C3%A9"
