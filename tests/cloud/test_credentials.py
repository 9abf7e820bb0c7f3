"""Credential resolution: env → ~/.alibabacloud/credentials → ~/.aliyun/config.json."""

from __future__ import annotations

import json

import pytest

from sheet2video.errors import ConfigError
from sheet2video.cloud.credentials import Credentials, resolve_credentials

SECRET = "s3cr3t-VALUE-never-shown"
TOKEN = "sts-TOKEN-never-shown"


@pytest.fixture
def home(tmp_path):
    return tmp_path


def write_ini(home, text):
    path = home / ".alibabacloud" / "credentials"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_cli(home, data):
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


INI = f"""
[default]
enable = true
type = access_key
access_key_id = ini-default-id
access_key_secret = {SECRET}

[temp]
type = sts
access_key_id = ini-sts-id
access_key_secret = {SECRET}
security_token = {TOKEN}

[role]
type = rsa_key_pair
public_key_id = r
"""

CLI = {
    "current": "work",
    "profiles": [
        {"name": "default", "mode": "AK", "access_key_id": "cli-default-id", "access_key_secret": SECRET},
        {"name": "work", "mode": "AK", "access_key_id": "cli-work-id", "access_key_secret": SECRET, "sts_token": ""},
        {"name": "sts", "mode": "StsToken", "access_key_id": "cli-sts-id", "access_key_secret": SECRET, "sts_token": TOKEN},
        {"name": "odd", "mode": "Bogus", "access_key_id": "x", "access_key_secret": "y"},
    ],
}


def test_repr_and_str_hide_secret_and_token():
    creds = Credentials("LTAIid", SECRET, TOKEN)
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "LTAIid" in text
        assert SECRET not in text and TOKEN not in text
    assert creds.access_key_secret == SECRET and creds.security_token == TOKEN


def test_env_first(home):
    write_ini(home, INI)
    write_cli(home, CLI)
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    creds = resolve_credentials(env=env, home=home)
    assert creds == Credentials("env-id", SECRET)
    assert creds.security_token is None


def test_env_with_security_token(home):
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "env-id",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN,
    }
    assert resolve_credentials(env=env, home=home) == Credentials("env-id", SECRET, TOKEN)


def test_env_half_pair_is_an_error(home):
    with pytest.raises(ConfigError) as ei:
        resolve_credentials(env={"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-id"}, home=home)
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in str(ei.value)


def test_explicit_profile_skips_env(home):
    write_ini(home, INI)
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    assert resolve_credentials("temp", env=env, home=home).access_key_id == "ini-sts-id"


def test_ini_default_section(home):
    write_ini(home, INI)
    write_cli(home, CLI)
    creds = resolve_credentials(env={}, home=home)
    assert creds == Credentials("ini-default-id", SECRET)
    assert "credentials [default]" in creds.source


def test_ini_sts_by_argument_and_by_env_profile(home):
    write_ini(home, INI)
    expected = Credentials("ini-sts-id", SECRET, TOKEN)
    assert resolve_credentials("temp", env={}, home=home) == expected
    assert resolve_credentials(env={"ALIBABA_CLOUD_PROFILE": "temp"}, home=home) == expected


def test_ini_sts_without_token_is_an_error(home):
    write_ini(home, f"[default]\ntype = sts\naccess_key_id = a\naccess_key_secret = {SECRET}\n")
    with pytest.raises(ConfigError) as ei:
        resolve_credentials(env={}, home=home)
    assert "security_token" in str(ei.value) and SECRET not in str(ei.value)


def test_ini_unsupported_type(home):
    write_ini(home, INI)
    with pytest.raises(ConfigError) as ei:
        resolve_credentials("role", env={}, home=home)
    assert "rsa_key_pair" in str(ei.value) and "ecs_ram_role" in str(ei.value)  # names what is supported


def test_ini_disabled_profile_falls_through(home):
    write_ini(home, f"[default]\nenable = false\naccess_key_id = a\naccess_key_secret = {SECRET}\n")
    write_cli(home, CLI)
    assert resolve_credentials(env={}, home=home).access_key_id == "cli-work-id"


def test_credentials_file_from_env(home, tmp_path):
    other = tmp_path / "elsewhere.ini"
    other.write_text(f"[default]\ntype = access_key\naccess_key_id = moved\naccess_key_secret = {SECRET}\n")
    creds = resolve_credentials(env={"ALIBABA_CLOUD_CREDENTIALS_FILE": str(other)}, home=home)
    assert creds.access_key_id == "moved"


def test_malformed_ini_names_file_not_secret(home):
    path = write_ini(home, f"[default]\naccess_key_id = a\nthis line has no equals {SECRET}\n")
    with pytest.raises(ConfigError) as ei:
        resolve_credentials(env={}, home=home)
    msg = str(ei.value)
    assert str(path) in msg and "line 3" in msg
    assert SECRET not in msg and "\n" not in msg


def test_ini_without_section_header(home):
    write_ini(home, f"access_key_secret = {SECRET}\n")
    with pytest.raises(ConfigError) as ei:
        resolve_credentials(env={}, home=home)
    assert SECRET not in str(ei.value)


def test_cli_current_profile(home):
    write_cli(home, CLI)
    creds = resolve_credentials(env={}, home=home)
    assert creds == Credentials("cli-work-id", SECRET)
    assert creds.security_token is None  # mode AK ignores an sts_token field


def test_cli_named_sts_profile(home):
    write_ini(home, INI)  # no [sts] section there: falls through to the CLI file
    write_cli(home, CLI)
    assert resolve_credentials("sts", env={}, home=home) == Credentials("cli-sts-id", SECRET, TOKEN)
    assert resolve_credentials(env={"ALIBABA_CLOUD_PROFILE": "sts"}, home=home).access_key_id == "cli-sts-id"


def test_cli_unsupported_mode(home):
    write_cli(home, CLI)
    with pytest.raises(ConfigError) as ei:
        resolve_credentials("odd", env={}, home=home)
    assert "Bogus" in str(ei.value) and "RamRoleArn" in str(ei.value)  # names what is supported


def test_cli_malformed_json(home):
    path = write_cli(home, '{"current": "default", "profiles": [ {"access_key_secret": "' + SECRET + '",, ]}')
    with pytest.raises(ConfigError) as ei:
        resolve_credentials(env={}, home=home)
    assert str(path) in str(ei.value) and SECRET not in str(ei.value)


def test_cli_missing_secret(home):
    write_cli(home, {"current": "default", "profiles": [{"name": "default", "mode": "AK", "access_key_id": "a"}]})
    with pytest.raises(ConfigError) as ei:
        resolve_credentials(env={}, home=home)
    assert "access_key_secret" in str(ei.value)


def test_nothing_found_names_everything_tried(home):
    with pytest.raises(ConfigError) as ei:
        resolve_credentials(env={}, home=home)
    msg = str(ei.value)
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID" in msg
    assert str(home / ".alibabacloud" / "credentials") in msg
    assert str(home / ".aliyun" / "config.json") in msg
    assert "\n" not in msg


def test_unknown_profile_everywhere(home):
    write_ini(home, INI)
    write_cli(home, CLI)
    with pytest.raises(ConfigError) as ei:
        resolve_credentials("nope", env={}, home=home)
    msg = str(ei.value)
    assert "[nope]" in msg and SECRET not in msg and "ALIBABA_CLOUD_ACCESS_KEY_ID" not in msg
