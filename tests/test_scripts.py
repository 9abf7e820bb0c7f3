"""scripts/ensure-*: what dpkg reports decides what apt-get is asked for (dpkg and apt-get are stand-ins here)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_debian(tmp_path):
    """A PATH whose dpkg-query answers from $STATUS_<package> and whose apt-get only writes down its call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dpkg-query").write_text(
        '#!/bin/sh\nfor p; do :; done\nvar="STATUS_$(echo "$p" | tr -c "a-zA-Z0-9\\n" _)"\n'
        'eval "s=\\${$var:-}"\n[ -n "$s" ] || exit 1\nprintf "%s" "$s"\n')
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/apt-calls\n')
    (bin_dir / "fc-cache").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)

    def run(script: str, statuses: dict[str, str]):
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
        env.update({"STATUS_" + "".join(c if c.isalnum() else "_" for c in p): s for p, s in statuses.items()})
        done = subprocess.run(["bash", str(ROOT / "scripts" / script)], env=env, capture_output=True, text=True, timeout=60)
        calls = (tmp_path / "apt-calls").read_text() if (tmp_path / "apt-calls").exists() else ""
        return done, calls

    return run


def test_packages_whose_triggers_are_pending_count_as_installed(fake_debian):
    statuses = {p: "install ok installed" for p in ("chromium", "redis-server", "libreoffice-calc-nogui", "strace")}
    statuses["chromium"] = "install ok triggers-pending"
    statuses["redis-server"] = "install ok triggers-awaited"
    done, calls = fake_debian("ensure-test-tools", statuses)
    assert done.returncode == 0 and calls == "" and done.stdout == "" and done.stderr == ""


def test_fontconfig_with_pending_triggers_is_not_reported_missing(fake_debian):
    fonts = ["fontconfig", "libfribidi0", "fonts-dejavu-core", "fonts-noto-core", "fonts-noto-cjk", "fonts-noto-color-emoji", "fonts-liberation2"]
    statuses = dict.fromkeys(fonts, "install ok installed") | {"fontconfig": "install ok triggers-pending"}
    done, calls = fake_debian("ensure-fonts", statuses)
    assert done.returncode == 0 and calls == "" and "missing" not in done.stderr


def test_a_package_that_is_not_installed_is_asked_for(fake_debian):
    done, calls = fake_debian("ensure-test-tools", {"chromium": "install ok installed", "redis-server": "deinstall ok config-files"})
    assert done.returncode == 0
    assert "install -y -qq redis-server" in calls and "chromium" not in calls
    assert "installing test tools: redis-server" in done.stdout
