"""Secrets never leak: with credentials in the environment and in a credentials file, no AccessKey
secret, security token or callback auth key appears in stdout, stderr, the engine's log, the
sheet, its backup, the ledger, the engine's store or any other file under the work folders —
including on error paths (wrong secret, unreachable endpoint, a failing service, a broken
credentials file). The bytes of every file are searched for the secret as is, URL-encoded,
base64-encoded and as UTF-16.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from tests.reliability.conftest import (
    FIGURES, KEY_ID, KEY_SECRET, base_env, campaign_rows, cli, copy_media, free_port, write_workbook,
)

TOKEN = "StsTokenValue+/=Never-Print-Me-9f3c"
CALLBACK_KEY = "CallbackAuthKey-Never-Print-Me-51"
WRONG = "Wrong-Secret-Never-Print-Me-0x7e"
FILE_SECRET = KEY_SECRET  # the credentials file holds the engine's secret for profile "prod"


def forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, quote(secret, safe="").encode(), base64.b64encode(raw), secret.encode("utf-16-le")]


def leaks(secrets: list[str], texts: dict[str, str], roots: list[Path], allowed: set[Path]) -> list[str]:
    found = []
    for name, text in texts.items():
        for secret in secrets:
            if any(f.decode("latin-1") in text for f in forms(secret)[:3]):
                found.append(f"{secret[:6]}… in {name}")
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and path not in allowed:
                data = path.read_bytes()
                for secret in secrets:
                    if any(f in data for f in forms(secret)):
                        found.append(f"{secret[:6]}… in {path}")
    return found


def test_no_secret_in_any_output_or_file(tmp_path, media_dir, preview_templates, serve):
    root = tmp_path / "work"
    copy_media(media_dir, root)
    home = tmp_path / "home"
    credentials = home / ".alibabacloud" / "credentials"
    credentials.parent.mkdir(parents=True)
    credentials.write_text(f"[prod]\ntype = access_key\naccess_key_id = {KEY_ID}\naccess_key_secret = {FILE_SECRET}\n"
                           f"[broken]\ntype = access_key\naccess_key_secret = {FILE_SECRET}\n")
    engine_env = {**base_env(home), "SHEET2VIDEO_CALLBACK_AUTH_KEY": CALLBACK_KEY}
    engine = serve(tmp_path / "engine", root, "--allow-callback", "127.0.0.1", env=engine_env)  # --callback-url below
    flaky = serve(tmp_path / "flaky-engine", root, "--faults", "error=1,only=GetBatchMediaProducingJob", env=engine_env)
    texts: dict[str, str] = {}
    secrets = [KEY_SECRET, TOKEN, CALLBACK_KEY, WRONG]

    def run(name, *args, env, expect):
        result = cli(*args, env=env)
        assert result.returncode in expect, (name, result.returncode, result.stderr[-2000:])
        texts[f"{name} stdout"], texts[f"{name} stderr"] = result.stdout, result.stderr
        return result

    env_creds = base_env(home, ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=KEY_SECRET,
                         ALIBABA_CLOUD_SECURITY_TOKEN=TOKEN, SHEET2VIDEO_CALLBACK_AUTH_KEY=CALLBACK_KEY)
    common = ["--templates", preview_templates]

    wrong_env = {**env_creds, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": WRONG}

    def env_paths():  # environment credentials (with an STS token and callbacks), then sync
        sheet = write_workbook(root / "env.xlsx", campaign_rows(3))
        run("env run", "run", sheet, "--endpoint", engine.url, *common, "--callback-url",
            f"http://127.0.0.1:{free_port()}/cb", env=env_creds, expect=(0,))
        run("env sync", "sync", sheet, "--endpoint", engine.url, *common, "--json", env=env_creds, expect=(0,))
        run("aliyun without region", "run", sheet, "--backend", "aliyun", env=env_creds, expect=(2,))

    def profile_path():  # a profile of the credentials file
        run("profile run", "run", write_workbook(root / "profile.xlsx", campaign_rows(3)), "--endpoint", engine.url,
            "--profile", "prod", *common, "--json", env=base_env(home), expect=(0,))

    def embedded_path():
        run("embedded run", "run", write_workbook(root / "embedded.xlsx", campaign_rows(2)), *common,
            env=env_creds, expect=(0,))

    def wrong_secret():
        result = run("wrong secret", "run", write_workbook(root / "wrong.xlsx", campaign_rows(1)), "--endpoint",
                     engine.url, *common, env=wrong_env, expect=(4,))
        assert "SignatureDoesNotMatch" in result.stderr

    def unreachable():
        result = run("unreachable", "run", write_workbook(root / "down.xlsx", campaign_rows(1)), "--endpoint",
                     f"http://127.0.0.1:{free_port()}", *common, env=env_creds, expect=(4,))
        assert "ConnectionError" in result.stderr

    def failing_service():
        result = run("failing service", "run", write_workbook(root / "flaky.xlsx", campaign_rows(1)), "--endpoint",
                     flaky.url, *common, env=env_creds, expect=(4,))
        assert "retry 5/5" in result.stderr  # the client's retry log lines were printed

    def broken_profile():
        result = run("broken profile", "run", write_workbook(root / "broken.xlsx", campaign_rows(1)), "--endpoint",
                     engine.url, "--profile", "broken", *common, env=base_env(home), expect=(2,))
        assert result.stderr.strip().splitlines()[-1].startswith("error: ") and "[broken]" in result.stderr

    paths = [env_paths, profile_path, embedded_path, wrong_secret, unreachable, failing_service, broken_profile]
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:  # independent sheets: run side by side
        for future in [pool.submit(p) for p in paths]:
            future.result()

    texts["engine log"] = "\n".join(engine.log)
    texts["flaky engine log"] = "\n".join(flaky.log)
    assert "access key id: " + KEY_ID in texts["engine log"]  # the id may be shown, never the secret
    found = leaks(secrets, texts, [root, tmp_path / "engine", tmp_path / "flaky-engine", home], {credentials})
    assert not found, found
    files = sum(1 for r in (root, tmp_path / "engine", tmp_path / "flaky-engine", home) for p in r.rglob("*") if p.is_file())
    assert any(p.name.endswith(".ledger.sqlite3") for p in (root / ".sheet2video").iterdir())
    print(f"searched {len(texts)} outputs and {files} files for {len(secrets)} secrets in 4 encodings")
    FIGURES["secret searches (outputs + files) with no leak"] += len(texts) + files
