"""Alibaba Cloud credentials, found the way Alibaba Cloud's own tools find them.

Resolution order (:func:`resolve_credentials`):

1. environment: ``ALIBABA_CLOUD_ACCESS_KEY_ID`` + ``ALIBABA_CLOUD_ACCESS_KEY_SECRET``
   (+ ``ALIBABA_CLOUD_SECURITY_TOKEN`` for STS) — skipped when a profile is named explicitly;
2. the credentials file ``~/.alibabacloud/credentials`` (or ``ALIBABA_CLOUD_CREDENTIALS_FILE``),
   INI, section = the profile argument, else ``ALIBABA_CLOUD_PROFILE``, else ``default``;
   ``type = access_key`` (``access_key_id``, ``access_key_secret``) or ``type = sts`` (adds
   ``security_token``);
3. the aliyun CLI's ``~/.aliyun/config.json``: the named profile, else ``ALIBABA_CLOUD_PROFILE``,
   else its ``current`` profile; modes ``AK`` and ``StsToken`` (``access_key_id``,
   ``access_key_secret``, ``sts_token``).

Nothing found or a malformed file raises :class:`~sheet2video.errors.ConfigError` with one line
naming what was tried. No message, repr or str ever contains a secret or a token.
"""

from __future__ import annotations

import configparser
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sheet2video.errors import ConfigError

__all__ = ["Credentials", "resolve_credentials"]

ENV_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
ENV_PROFILE = "ALIBABA_CLOUD_PROFILE"
ENV_CREDENTIALS_FILE = "ALIBABA_CLOUD_CREDENTIALS_FILE"


@dataclass(frozen=True, repr=False)
class Credentials:
    """An AccessKey pair, optionally with an STS security token. ``source`` says where it came from."""

    access_key_id: str
    access_key_secret: str
    security_token: str | None = None
    source: str | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        token = ", security_token='***'" if self.security_token else ""
        src = f", source={self.source!r}" if self.source else ""
        return f"Credentials(access_key_id={self.access_key_id!r}, access_key_secret='***'{token}{src})"

    __str__ = __repr__


def resolve_credentials(
    profile: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    home: str | os.PathLike[str] | None = None,
) -> Credentials:
    """Find credentials (see the module docstring for the order). ``env`` defaults to
    ``os.environ``, ``home`` to the user's home folder."""
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

    raise ConfigError("no Alibaba Cloud credentials found; tried " + ", ".join(tried))


def _from_credentials_file(path: Path, section: str) -> Credentials | None:
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
    if kind not in ("access_key", "sts"):
        raise ConfigError(f"{where}: credential type {kind!r} is not supported (use access_key or sts)")
    key_id = sec.get("access_key_id", "").strip()
    secret = sec.get("access_key_secret", "").strip()
    token = sec.get("security_token", "").strip() if kind == "sts" else ""
    needed = ["access_key_id"] * (not key_id) + ["access_key_secret"] * (not secret)
    if kind == "sts" and not token:
        needed.append("security_token")
    if needed:
        raise ConfigError(f"{where}: {', '.join(needed)} missing or empty")
    return Credentials(key_id, secret, token or None, source=where)


def _from_cli_config(path: Path, wanted: str | None) -> tuple[Credentials | None, str]:
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
    if mode not in ("AK", "StsToken"):
        raise ConfigError(f"{where}: mode {mode!r} is not supported (use AK or StsToken)")
    key_id = str(entry.get("access_key_id") or "").strip()
    secret = str(entry.get("access_key_secret") or "").strip()
    token = str(entry.get("sts_token") or "").strip() if mode == "StsToken" else ""
    needed = ["access_key_id"] * (not key_id) + ["access_key_secret"] * (not secret)
    if mode == "StsToken" and not token:
        needed.append("sts_token")
    if needed:
        raise ConfigError(f"{where}: {', '.join(needed)} missing or empty")
    return Credentials(key_id, secret, token or None, source=where), name
