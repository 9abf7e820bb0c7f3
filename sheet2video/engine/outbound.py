"""Outbound HTTP on behalf of a caller: media downloads, RegisterMediaInfo URLs, job callbacks.

A caller of a shared engine must not make it reach what only the engine can reach: its own
loopback services, the team's private network, a cloud's metadata service (169.254.169.254).
Every such request goes through an :class:`OutboundPolicy`:

* http and https only;
* the host is resolved once — a numeric host in any spelling ``inet_aton`` reads (``2130706433``,
  ``0x7f.1``, ``127.1``, ``0177.0.0.1``) is the IPv4 address it means, never a name — and every
  address of the answer is checked; the connection then goes to a checked address (https still
  sends and verifies the name), so an answer that changes between check and connect (DNS
  rebinding) changes nothing;
* refused unless opened: the ranges of :data:`REFUSED` (loopback, private, link-local, CGNAT,
  unspecified, multicast, reserved, documentation, IPv4-mapped and other IPv6 forms of IPv4);
* redirects are followed here, at most :data:`MAX_REDIRECTS`, each hop checked like the first;
* no proxy from the environment: a proxy would resolve the name itself, past the check.
* a ``user:password@`` in a URL is not sent (the host is what follows the last ``@``).

``allow`` entries (``serve --allow-fetch`` / ``--allow-callback``) open exactly what they name: a
CIDR or an address (``10.0.0.5``, ``10.0.0.0/8``, ``fd00::/8``), or a host name (matched by the
URL's name, whatever it resolves to), each optionally with ``:PORT`` to open that port only
(IPv6 in brackets: ``[::1]:8080``). :data:`LOCAL_NETWORKS` is what the embedded single-user
engine opens: the user's own machine and private networks (not link-local: no metadata service).

A failure is an :class:`OutboundError` whose text is for the server log. What the caller sees is
:meth:`OutboundPolicy.said`: on a shared server one sentence whatever the far side did (a refused
address, a closed port, a timeout, an error page …), so the engine cannot serve as a port scanner.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator
from urllib.parse import urljoin, urlsplit

import urllib3
from requests.certs import where as certifi_bundle
from requests.utils import requote_uri

__all__ = ["MAX_REDIRECTS", "REFUSED", "LOCAL_NETWORKS", "UNIFORM", "OutboundError", "Refused", "Opening",
           "Target", "OutboundPolicy", "refusal", "system_resolver"]

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
_NETS = ipaddress.ip_network
REFUSED = {  # network → why nobody outside may make the engine reach it
    _NETS("0.0.0.0/8"): "unspecified", _NETS("10.0.0.0/8"): "private", _NETS("100.64.0.0/10"): "CGNAT",
    _NETS("127.0.0.0/8"): "loopback", _NETS("169.254.0.0/16"): "link-local", _NETS("172.16.0.0/12"): "private",
    _NETS("192.0.0.0/24"): "IETF protocol", _NETS("192.0.2.0/24"): "documentation", _NETS("192.168.0.0/16"): "private",
    _NETS("198.18.0.0/15"): "benchmarking", _NETS("198.51.100.0/24"): "documentation",
    _NETS("203.0.113.0/24"): "documentation", _NETS("224.0.0.0/4"): "multicast", _NETS("240.0.0.0/4"): "reserved",
    _NETS("::/128"): "unspecified", _NETS("::1/128"): "loopback", _NETS("::/96"): "IPv4-compatible",
    _NETS("::ffff:0:0/96"): "IPv4-mapped", _NETS("64:ff9b::/96"): "NAT64", _NETS("64:ff9b:1::/48"): "NAT64",
    _NETS("100::/64"): "discard", _NETS("2001::/23"): "IETF protocol (Teredo …)", _NETS("2001:db8::/32"): "documentation",
    _NETS("2002::/16"): "6to4", _NETS("fc00::/7"): "private (unique local)", _NETS("fe80::/10"): "link-local",
    _NETS("fec0::/10"): "site-local", _NETS("ff00::/8"): "multicast",
}
LOCAL_NETWORKS = ("127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
UNIFORM = "cannot fetch {url}: refused, unreachable, or no media within the limits (the engine's log says which)"
# what inet_aton reads as an IPv4 address: 1–4 parts, each decimal, octal (0…) or hex (0x…)
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.I)
_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*")


class OutboundError(Exception):
    """Why an outbound request failed, in words for the server log (``code``: an IMS error code
    for a caller who may be told, see :meth:`OutboundPolicy.said`)."""

    def __init__(self, detail: str, code: str = "InvalidMaterial.NotFound"):
        super().__init__(detail)
        self.detail = detail
        self.code = code


class Refused(OutboundError):
    """The policy refuses the URL itself (its scheme, its form, an address it resolves to): trying
    again would not help, and nothing was sent."""


def refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``address`` is refused by default ("loopback", …), or None for a public address."""
    for network, why in REFUSED.items():
        if address.version == network.version and address in network:
            return why
    return None if address.is_global else "not global"


def _host(raw: str) -> str:
    """The URL's host as an address (any IPv4 spelling) or a lower-case ASCII name; ValueError else."""
    host = raw.strip().rstrip(".").lower()
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.split("%")[0]).compressed
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            raise ValueError(f"{raw!r} is not an IPv4 address") from None
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{raw!r} is not a host name") from None
    if not _NAME.fullmatch(name):
        raise ValueError(f"{raw!r} is not a host name")
    return name


@dataclass(frozen=True)
class Opening:
    """One ``allow`` entry: a network or a host name, on any port or one."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    name: str | None
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> Opening:
        """``CIDR``, ``ADDRESS`` or ``HOST``, optionally ``:PORT`` (``[IPv6]:PORT``); ValueError says why."""
        text, port = entry.strip(), None
        bracketed = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", text)
        if bracketed:
            text, port = bracketed.group(1), bracketed.group(2)
        elif text.count(":") == 1:
            text, port = text.split(":")
        if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
        port = int(port) if port else None
        try:
            return cls(ipaddress.ip_network(text, strict=False), None, port)
        except ValueError:
            pass
        try:
            return cls(None, _host(text), port)
        except ValueError:
            raise ValueError(f"{entry!r} is neither a CIDR, an address nor a host name") from None

    def admits(self, name: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bool:
        if self.port is not None and port != self.port:
            return False
        if self.name is not None:
            return name == self.name
        return address.version == self.network.version and address in self.network


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``addresses``, all checked) and what to say (name, path)."""

    scheme: str
    name: str               # the host as Host and TLS's SNI carry it
    port: int
    path: str               # path and query, for the request line
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.name}]" if ":" in self.name else self.name
        return host if self.port == (443 if self.scheme == "https" else 80) else f"{host}:{self.port}"


def _why(error: Exception) -> str:
    """urllib3's error in words, without the pool's name (the address it shows is in the message already)."""
    return re.sub(r"^HTTPS?Connection(?:Pool)?\([^)]*\): ", "", str(error)) or type(error).__name__


def system_resolver(name: str, port: int) -> list[str]:
    """The addresses ``name`` resolves to (the system's resolver: /etc/hosts, DNS), in its order."""
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0].split("%")[0] for info in infos))


def _ca_bundle() -> str:
    """The CA certificates https is verified against: as requests finds them (its variables, else certifi)."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi_bundle()


class OutboundPolicy:
    """Which addresses requests on a caller's behalf may reach, and how they are made.

    ``allow``: entries opening what :data:`REFUSED` closes (see the module's doc).
    ``explain``: a failure's detail is shown to the caller (the embedded engine, whose caller
    owns the machine); otherwise the caller reads :data:`UNIFORM` and the log the detail.
    ``resolver``: ``(name, port) → addresses``, the system's by default (tests give their own)."""

    def __init__(self, allow: Iterable[str] = (), *, explain: bool = False,
                 resolver: Callable[[str, int], list[str]] = system_resolver):
        self.openings = [Opening.parse(entry) for entry in allow]
        self.explain = explain
        self.resolver = resolver

    def said(self, url: str, detail: str) -> str:
        """What the caller reads about a failed request to ``url``."""
        return detail if self.explain else UNIFORM.format(url=url)

    def target(self, url: str) -> Target:
        """``url`` parsed, its host resolved once and every address checked; OutboundError says why not."""
        try:
            parts = urlsplit(url.strip())
            scheme = parts.scheme.lower()
            if scheme not in ("http", "https"):
                raise ValueError(f"scheme {scheme!r} (http and https only)")
            port = parts.port or (443 if scheme == "https" else 80)
            name = _host(parts.hostname or "")
        except ValueError as error:
            raise Refused(f"{url[:300]}: not a URL the engine fetches: {error}") from None
        try:
            found = [ipaddress.ip_address(name)]
        except ValueError:
            try:
                found = [ipaddress.ip_address(a) for a in self.resolver(name, port)]
            except (OSError, UnicodeError, ValueError) as error:
                raise OutboundError(f"{name} does not resolve: {error}") from None
        if not found:
            raise OutboundError(f"{name} does not resolve")
        for address in found:
            why = refusal(address)
            if why and not any(o.admits(name, address, port) for o in self.openings):
                said = "is" if name == address.compressed else f"resolves to {address}, an address that is"
                raise Refused(f"{name}:{port} {said} {why}: refused by the engine's outbound policy")
        path = requote_uri((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))  # 视频.mp4, "a b.mp4"
        return Target(scheme, name, port, path, tuple(a.compressed for a in found))

    @contextlib.contextmanager
    def request(self, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: tuple[float, float] = (10.0, 30.0), redirects: int = MAX_REDIRECTS) -> Iterator:
        """The answer to ``method url`` as a urllib3 response whose body is not read yet (``status``,
        ``headers``, ``read1``; its ``connection.sock`` while the connection is open), after
        following up to ``redirects`` redirects, each checked again. OutboundError for anything
        else: a refused address, no connection, a timeout, a broken answer, too many redirects."""
        for _ in range(redirects + 1):
            target = self.target(url)
            pool, response = self._send(target, method, body, headers or {}, timeout)
            location = response.headers.get("Location") if response.status in REDIRECTS else None
            if location is None or redirects == 0:
                try:
                    yield response
                except urllib3.exceptions.HTTPError as error:  # while the body was read
                    raise OutboundError(f"{target.name}:{target.port}: {_why(error)}") from None
                finally:
                    response.close()
                    pool.close()
                return
            response.close()
            pool.close()
            url = urljoin(url, location)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", None  # as browsers and requests do
        raise OutboundError(f"more than {redirects} redirects")

    @staticmethod
    def _send(target: Target, method: str, body: bytes | None, headers: dict[str, str], timeout: tuple[float, float]):
        """Send to the target's checked addresses in turn until one connects: (pool, response)."""
        failure: Exception | None = None
        for address in target.addresses:
            limits = urllib3.Timeout(connect=timeout[0], read=timeout[1])
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(address, target.port, timeout=limits, maxsize=1, retries=False,
                                                   cert_reqs="CERT_REQUIRED", ca_certs=_ca_bundle(),
                                                   server_hostname=target.name, assert_hostname=target.name)
            else:
                pool = urllib3.HTTPConnectionPool(address, target.port, timeout=limits, maxsize=1, retries=False)
            try:
                return pool, pool.urlopen(method, target.path, body=body, headers={**headers, "Host": target.host_header},
                                          redirect=False, retries=False, preload_content=False, assert_same_host=False)
            except (urllib3.exceptions.HTTPError, ValueError) as error:  # ValueError: http.client's InvalidURL
                pool.close()
                failure = error
                if not isinstance(error, urllib3.exceptions.ConnectTimeoutError):  # or NewConnectionError, its kind
                    break  # the request went out: another address would repeat it
        raise OutboundError(f"{target.name}:{target.port}: {_why(failure)}")
