"""Alibaba Cloud credentials, found the way Alibaba Cloud's own tools find them.

:func:`resolve_credentials` returns a *source*: anything with ``current() -> Credentials``. A fixed
AccessKey is its own source (``Credentials.current()`` returns itself); roles, OIDC, the ECS
metadata service and credentials URIs go through the official ``alibabacloud-credentials``
providers, wrapped in :class:`RefreshingSource`, which cache the token and fetch a new one before
it goes stale (15 minutes before it expires), so a run outlives any one token. Callers ask the
source per request. Order:

1. environment: ``ALIBABA_CLOUD_ACCESS_KEY_ID`` + ``ALIBABA_CLOUD_ACCESS_KEY_SECRET``
   (+ ``ALIBABA_CLOUD_SECURITY_TOKEN`` for STS); then RRSA/OIDC: ``ALIBABA_CLOUD_ROLE_ARN`` +
   ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` + ``ALIBABA_CLOUD_OIDC_TOKEN_FILE`` — skipped when a profile
   is named explicitly;
2. the credentials file ``~/.alibabacloud/credentials`` (or ``ALIBABA_CLOUD_CREDENTIALS_FILE``),
   INI, section = the profile argument, else ``ALIBABA_CLOUD_PROFILE``, else ``default``;
   ``type = access_key`` / ``sts`` read here; ``ram_role_arn``, ``oidc_role_arn``, ``ecs_ram_role``
   and ``credentials_uri`` through the official providers;
3. the aliyun CLI's ``~/.aliyun/config.json``: the named profile, else ``ALIBABA_CLOUD_PROFILE``,
   else its ``current`` profile; modes ``AK`` and ``StsToken`` read here, the role modes
   (``RamRoleArn``, ``EcsRamRole``, ``OIDC``, …) through the official provider;
4. without a named profile: the ECS RAM role named by ``ALIBABA_CLOUD_ECS_METADATA`` (opt-in, so a
   laptop never waits on the metadata address), then ``ALIBABA_CLOUD_CREDENTIALS_URI``.

Nothing found or a malformed file raises :class:`~sheet2video.errors.ConfigError` (exit 2) with one
line naming what was tried. A credential service that refuses, answers garbage or hands out an
expired token raises :class:`~sheet2video.errors.ImsError` ``CredentialsUnavailable`` (exit 4).
No message, repr, str or log line ever contains a secret or a token.
"""

from __future__ import annotations

import configparser
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from sheet2video.errors import ConfigError, ImsError

__all__ = ["CredentialSource", "Credentials", "RefreshingSource", "resolve_credentials"]

ENV_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
ENV_PROFILE = "ALIBABA_CLOUD_PROFILE"
ENV_CREDENTIALS_FILE = "ALIBABA_CLOUD_CREDENTIALS_FILE"
ENV_OIDC = ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
ENV_ECS_ROLE = "ALIBABA_CLOUD_ECS_METADATA"
ENV_URI = "ALIBABA_CLOUD_CREDENTIALS_URI"
FILE_ROLE_TYPES = ("ram_role_arn", "oidc_role_arn", "ecs_ram_role", "credentials_uri")
CLI_ROLE_MODES = ("RamRoleArn", "EcsRamRole", "OIDC", "ChainableRamRoleArn", "CloudSSO", "OAuth", "External")


@dataclass(frozen=True, repr=False)
class Credentials:
    """An AccessKey pair, optionally with an STS security token. ``source`` says where it came from."""

    access_key_id: str
    access_key_secret: str
    security_token: str | None = None
    source: str | None = field(default=None, compare=False)
    expiration: float | None = field(default=None, compare=False)  # epoch seconds, when temporary

    def __repr__(self) -> str:
        token = ", security_token='***'" if self.security_token else ""
        src = f", source={self.source!r}" if self.source else ""
        return f"Credentials(access_key_id={self.access_key_id!r}, access_key_secret='***'{token}{src})"

    __str__ = __repr__

    def current(self) -> Credentials:
        """A fixed key is its own source."""
        return self


class RefreshingSource:
    """Credentials from an official ``alibabacloud-credentials`` provider. The provider caches them
    and fetches new ones once they go stale, so :meth:`current` is cheap between refreshes."""

    def __init__(self, provider: Any, source: str):
        # The library logs failed refreshes with the service's answer (which may hold a secret) and a
        # traceback to stderr through its own handler on the logger "credentials": keep it quiet.
        logging.getLogger("credentials").disabled = True
        self._provider = provider
        self.source = source

    def __repr__(self) -> str:
        return f"RefreshingSource(source={self.source!r})"

    __str__ = __repr__

    def current(self) -> Credentials:
        """The credentials valid now; :class:`ImsError` ``CredentialsUnavailable`` when the provider fails."""
        try:
            got = self._provider.get_credentials()
        except Exception as exc:  # the library raises many kinds; all mean "no usable credentials"
            raise self._unavailable(_reason(exc)) from None
        key_id, secret = got.get_access_key_id(), got.get_access_key_secret()
        if not key_id or not secret:
            raise self._unavailable("the answer has no AccessKeyId or AccessKeySecret")
        expiration = got.get_expiration() if hasattr(got, "get_expiration") else None
        if expiration is not None and expiration <= time.time():
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiration))
            raise self._unavailable(f"the token it handed out expired at {when}")
        return Credentials(key_id, secret, got.get_security_token() or None, source=self.source, expiration=expiration)

    def _unavailable(self, reason: str) -> ImsError:
        return ImsError("CredentialsUnavailable", f"cannot get credentials from {self.source}: {reason}")


CredentialSource = Union[Credentials, RefreshingSource]


def _reason(exc: Exception) -> str:
    """Why a provider failed, in words that never quote the service's answer (it may hold a secret)."""
    text = str(exc)
    status = re.search(r"(?:http_code|HttpCode)=\s*(\d+)", text)
    if status:
        return f"HTTP {status.group(1)}"
    if isinstance(exc, json.JSONDecodeError):
        return "the answer is not JSON"
    if "result:" in text or "Failed to get RAM session credentials" in text or isinstance(exc, (TypeError, ValueError, KeyError)):
        return "the answer is malformed (want Code Success, AccessKeyId, AccessKeySecret, SecurityToken, Expiration)"
    if "No cached value" in text:
        return "the token it handed out had already expired"
    if "connect" in text.lower() or "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return f"cannot reach it ({type(exc).__name__})"
    return f"{type(exc).__name__}: {text.split(' result:')[0][:200]}"


def resolve_credentials(
    profile: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    home: str | os.PathLike[str] | None = None,
) -> CredentialSource:
    """Find credentials (see the module docstring for the order). ``env`` defaults to
    ``os.environ``, ``home`` to the user's home folder. A refreshing source is asked once here, so a
    refusing credential service stops a run before anything is sent."""
    env = os.environ if env is None else env
    home_path = Path(home) if home is not None else Path.home()
    tried: list[str] = []

    if profile is None:
        key_id = (env.get(ENV_KEY_ID) or "").strip()
        secret = (env.get(ENV_KEY_SECRET) or "").strip()
        if key_id and secret:
            token = (env.get(ENV_TOKEN) or "").strip() or None
            return Credentials(key_id, secret, token, source=f"environment {ENV_KEY_ID}")
        if key_id or secret:
            missing = ENV_KEY_SECRET if key_id else ENV_KEY_ID
            raise ConfigError(f"{missing} is not set (the other half of the AccessKey pair is)")
        tried.append(f"environment {ENV_KEY_ID}/{ENV_KEY_SECRET}")
        oidc = [(env.get(name) or "").strip() for name in ENV_OIDC]
        if all(oidc):
            return _official("oidc", "environment ALIBABA_CLOUD_ROLE_ARN (RRSA/OIDC)", role_arn=oidc[0],
                             oidc_provider_arn=oidc[1], oidc_token_file_path=oidc[2],
                             role_session_name=env.get("ALIBABA_CLOUD_ROLE_SESSION_NAME") or "sheet2video")
        tried.append("environment ALIBABA_CLOUD_OIDC_TOKEN_FILE (RRSA)")

    wanted = profile or (env.get(ENV_PROFILE) or "").strip() or None

    cred_file = Path(env[ENV_CREDENTIALS_FILE]) if env.get(ENV_CREDENTIALS_FILE) else home_path / ".alibabacloud" / "credentials"
    section = wanted or "default"
    found = _from_credentials_file(cred_file, section)
    if found:
        return found
    tried.append(f"{cred_file} [{section}]")

    cli_file = home_path / ".aliyun" / "config.json"
    found, cli_profile = _from_cli_config(cli_file, wanted)
    if found:
        return found
    tried.append(f"{cli_file} [{cli_profile}]")

    if profile is None:
        role = (env.get(ENV_ECS_ROLE) or "").strip()
        if role:
            return _official("ecs", f"the ECS RAM role {role!r} (instance metadata)", role_name=role, async_update_enabled=False)
        tried.append(f"environment {ENV_ECS_ROLE} (ECS RAM role)")
        uri = (env.get(ENV_URI) or "").strip()
        if uri:
            return _official("uri", f"{ENV_URI} {_no_query(uri)}", uri=uri)
        tried.append(f"environment {ENV_URI}")

    raise ConfigError("no Alibaba Cloud credentials found; tried " + ", ".join(tried))


def _official(kind: str, where: str, **args: Any) -> RefreshingSource:
    """An official provider of ``kind`` wrapped as a source, checked once."""
    from alibabacloud_credentials import provider as official  # ~100 ms: only when a role is used

    make = {"oidc": official.OIDCRoleArnCredentialsProvider, "ecs": official.EcsRamRoleCredentialsProvider,
            "uri": official.URLCredentialsProvider, "file": official.ProfileCredentialsProvider,
            "cli": official.CLIProfileCredentialsProvider}[kind]
    try:
        provider = make(**args)
    except (ValueError, TypeError) as exc:  # constructors name the missing setting, never a secret
        raise ConfigError(f"{where}: {exc}") from None
    source = RefreshingSource(provider, where)
    source.current()
    return source


def _no_query(uri: str) -> str:
    """A URI as shown in messages: its query may carry a credential."""
    return uri.split("?", 1)[0]


def _from_credentials_file(path: Path, section: str) -> CredentialSource | None:
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8-sig"), source=str(path))
    except configparser.MissingSectionHeaderError as exc:
        raise ConfigError(f"{path}: not a valid credentials file (line {exc.lineno} is outside any [section])") from None
    except configparser.ParsingError as exc:
        # exc.errors holds (line number, line text); the text may hold a secret, so only numbers.
        lines = ", ".join(str(n) for n, _ in getattr(exc, "errors", [])) or "?"
        raise ConfigError(f"{path}: not a valid credentials file (cannot parse line {lines})") from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: not a valid credentials file ({type(exc).__name__})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({type(exc).__name__})") from None
    if not parser.has_section(section):
        return None
    sec = parser[section]
    if sec.get("enable", "true").strip().lower() in ("false", "0", "no", "off"):
        return None
    kind = sec.get("type", "access_key").strip()
    where = f"{path} [{section}]"
    if kind == "credentials_uri":
        return _official("uri", f"{where} credentials_uri", uri=sec.get("credentials_uri", "").strip())
    if kind == "ecs_ram_role":
        return _official("ecs", f"{where} ecs_ram_role", role_name=sec.get("role_name", "").strip() or None, async_update_enabled=False)
    if kind in FILE_ROLE_TYPES:
        return _official("file", f"{where} {kind}", profile_file=str(path), profile_name=section)
    if kind not in ("access_key", "sts"):
        raise ConfigError(f"{where}: credential type {kind!r} is not supported (use access_key, sts, {', '.join(FILE_ROLE_TYPES)})")
    key_id = sec.get("access_key_id", "").strip()
    secret = sec.get("access_key_secret", "").strip()
    token = sec.get("security_token", "").strip() if kind == "sts" else ""
    needed = ["access_key_id"] * (not key_id) + ["access_key_secret"] * (not secret)
    if kind == "sts" and not token:
        needed.append("security_token")
    if needed:
        raise ConfigError(f"{where}: {', '.join(needed)} missing or empty")
    return Credentials(key_id, secret, token or None, source=where)


def _from_cli_config(path: Path, wanted: str | None) -> tuple[CredentialSource | None, str]:
    if not path.is_file():
        return None, wanted or "current"
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({type(exc).__name__})") from None
    profiles = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(profiles, list):
        raise ConfigError(f"{path}: no 'profiles' list")
    name = wanted or (data.get("current") if isinstance(data.get("current"), str) else "") or "default"
    entry = next((p for p in profiles if isinstance(p, dict) and p.get("name") == name), None)
    if entry is None:
        return None, name
    where = f"{path} [{name}]"
    mode = entry.get("mode") or "AK"
    if mode in CLI_ROLE_MODES:
        return _official("cli", f"{where} {mode}", profile_name=name, profile_file=str(path)), name
    if mode not in ("AK", "StsToken"):
        raise ConfigError(f"{where}: mode {mode!r} is not supported (use AK, StsToken, {', '.join(CLI_ROLE_MODES)})")
    key_id = str(entry.get("access_key_id") or "").strip()
    secret = str(entry.get("access_key_secret") or "").strip()
    token = str(entry.get("sts_token") or "").strip() if mode == "StsToken" else ""
    needed = ["access_key_id"] * (not key_id) + ["access_key_secret"] * (not secret)
    if mode == "StsToken" and not token:
        needed.append("sts_token")
    if needed:
        raise ConfigError(f"{where}: {', '.join(needed)} missing or empty")
    return Credentials(key_id, secret, token or None, source=where), name
