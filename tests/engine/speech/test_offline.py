"""No network at run time, proven: a full `sheet2video run` with both neural voices (Piper for
English, Kokoro for Japanese; both run onnxruntime), in a network namespace that has only
loopback, traced with strace. onnxruntime >= 1.29 looks up mobile.events.data.microsoft.com
(telemetry) about ten seconds after its first inference unless ORT_DISABLE_TELEMETRY is set
before it is imported; `import sheet2video` sets it.

The negative control is the same run with the variable taken away after that import: the trace must
then show the lookup, which proves that the detector sees one. Both runs go side by side and both
stay alive until the control's lookup has been seen (or four minutes passed), so the offline run
is watched for at least as long as onnxruntime took to phone home in its twin."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

# the run itself, then alive until released (see below)
DRIVER = r"""
import os, sys, time
from pathlib import Path

import sheet2video  # sets ORT_DISABLE_TELEMETRY=1 for every process of ours
if sys.argv[2] == "telemetry-on":
    del os.environ["ORT_DISABLE_TELEMETRY"]  # what onnxruntime does when nobody tells it

from PIL import Image
from sheet2video.cli import cli

folder = Path(sys.argv[1])
Image.new("RGB", (180, 320), (30, 90, 200)).save(folder / "a.png")
(folder / "c.csv").write_text("id,media:A,speech,voice,width,height,max_duration\n"
                              "r1,a.png,Hello there. This video was made offline.,joe,180,320,3\n"
                              "r2,a.png,今日は新しい商品を紹介します。,tomoka,180,320,3\n", encoding="utf-8")
try:
    cli(["run", str(folder / "c.csv"), "--json"], prog_name="sheet2video")
except SystemExit as done:
    code = done.code
# stay alive until the test releases us: it does once the control process, started alike, has
# made its telemetry lookup, so this process has lived past the moment onnxruntime phones home
release = folder.parent / "release"
deadline = time.monotonic() + 300
while not release.exists() and time.monotonic() < deadline:
    time.sleep(0.1)
sys.exit(code)
"""

# onnxruntime stays quiet when it believes it runs under CI (it reads these; a CI runner sets CI=true),
# so both runs take them away: the control must behave as on a user's machine, and the offline run
# must prove the switch, not the CI marker
_CI_MARKERS = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL",
               "CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER",
               "ORT_RUNNING_UNIT_TESTS")
_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')
_LOOPBACK = ("127.", "::1", "::ffff:127.")


def _outside_attempts(trace: str) -> list[str]:
    """The connect/sendto calls of the trace that go to an address other than loopback, and every
    name lookup: DNS to any address (a machine's resolver may listen on 127.0.0.53) or a local
    resolver daemon's socket (nscd, systemd-resolved)."""
    attempts = []
    for line in trace.splitlines():
        if "connect(" not in line and "sendto(" not in line:
            continue
        if "AF_INET" in line:
            match = _ADDRESS.search(line)
            address = next((g for g in match.groups() if g), "") if match else ""
            if not address.startswith(_LOOPBACK) or "htons(53)" in line:
                attempts.append(line.strip())
        elif "AF_UNIX" in line and ("nscd" in line or "resolve" in line):
            attempts.append(line.strip())
    return attempts


def test_a_render_with_the_neural_voice_makes_no_lookup_and_no_connection(tmp_path):
    strace, unshare = shutil.which("strace"), shutil.which("unshare")
    assert strace and unshare, "strace and unshare are needed (scripts/ensure-test-tools installs strace)"
    runs = {}
    for mode in ("telemetry-off", "telemetry-on"):
        folder = tmp_path / mode
        folder.mkdir()
        script = folder / "driver.py"
        script.write_text(DRIVER)
        trace = folder / "trace.txt"
        # a namespace with loopback only (the embedded engine is reached over 127.0.0.1)
        command = (f"ip link set lo up && exec {strace} -f -qq -e trace=connect,sendto -o {trace} "
                   f"{sys.executable} {script} {folder} {mode}")
        environment = {k: v for k, v in os.environ.items() if k not in _CI_MARKERS}
        runs[mode] = (subprocess.Popen([unshare, "--net", "sh", "-c", command], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=environment), trace, folder)
    control_trace = runs["telemetry-on"][1]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and runs["telemetry-on"][0].poll() is None:
        if control_trace.exists() and "htons(53)" in control_trace.read_text(errors="replace"):
            break  # the control phoned home: both processes have now lived past that moment
        time.sleep(0.2)
    (tmp_path / "release").touch()
    for mode, (process, trace, folder) in runs.items():
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, f"{mode}: exit {process.returncode}\n{err[-3000:]}"
        assert (folder / "c.csv").read_text(encoding="utf-8").count("Finished") == 2, f"{mode}: the videos were not made"
    offline = _outside_attempts(runs["telemetry-off"][1].read_text())
    assert offline == [], "name lookups or connections leave the machine:\n" + "\n".join(offline[:5])
    control = _outside_attempts(runs["telemetry-on"][1].read_text())
    assert any("htons(53)" in line for line in control), (
        "the control run (telemetry not switched off) made no DNS lookup: the detector or the window "
        "no longer sees onnxruntime's telemetry")
    print(f"\nMEASURED: outside attempts with ORT_DISABLE_TELEMETRY=1: {len(offline)}; without it: {len(control)} "
          f"(e.g. {control[0][:120]})")
