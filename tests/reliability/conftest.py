"""Shared parts of the reliability campaigns: seeds, soak sizes, figures, a restartable `serve`.

* ``SHEET2VIDEO_SOAK=1`` (``make soak``) raises every campaign's counts.
* ``SHEET2VIDEO_SEED=N`` replays a campaign; without it a fresh seed is drawn, and every test
  prints the seed it used (and names it in its assertion messages) so a failure can be replayed.
* ``FIGURES`` collects what the campaigns did (crash points, faults, bad inputs...); the totals
  are printed at the end of the session (they are the figures quoted in README "Reliability").

Every subprocess has a timeout; waiting is polling a condition against a deadline, never a sleep.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.media import make_image, make_video

ROOT = Path(__file__).resolve().parents[2]
SOAK = os.environ.get("SHEET2VIDEO_SOAK", "") not in ("", "0")
SEED = int(os.environ["SHEET2VIDEO_SEED"]) if os.environ.get("SHEET2VIDEO_SEED") else random.SystemRandom().randrange(10**6)
FIGURES: Counter = Counter()

KEY_ID = "LTAIreliability0001"
KEY_SECRET = "Rel1abilitySecretNeverShown77"
CLOUD_ENV = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY_SECRET}
TIMEOUT = 180  # seconds any one CLI subprocess may take before the test fails as a hang


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(f"seed {SEED} (replay with SHEET2VIDEO_SEED={SEED}){'  [soak]' if SOAK else ''}")
    for name, value in sorted(FIGURES.items()):
        terminalreporter.write_line(f"  {name}: {value}")


@pytest.fixture
def rng(request):
    """A random.Random seeded from the session seed and the test's name (printed)."""
    seed = f"{SEED}:{request.node.name}"
    print(f"\n[{request.node.name}] seed {SEED} (replay: SHEET2VIDEO_SEED={SEED})")
    return random.Random(seed)


def soak(normal: int, long: int) -> int:
    return long if SOAK else normal


# ---------------------------------------------------------------- media and sheets


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("rel-media")
    make_video(folder / "a.mp4", 1.0, "180x320", color="red")
    make_video(folder / "b.mp4", 1.0, "320x180", color="green", with_audio=440)
    make_image(folder / "c.png", "200x200", "blue")
    return folder


def copy_media(media_dir: Path, root: Path) -> Path:
    shutil.copytree(media_dir, root / "media", dirs_exist_ok=True)
    return root / "media"


@pytest.fixture(scope="session")
def preview_templates(tmp_path_factory) -> Path:
    """The built-in script templates with OutputConfig.GeneratePreviewOnly: jobs are planned
    (media resolved and probed, timeline built) but no video is encoded — fast campaigns."""
    from sheet2video.plan.templating import BUILTIN_DIR

    folder = tmp_path_factory.mktemp("templates") / "preview"
    shutil.copytree(BUILTIN_DIR / "script", folder)
    out = folder / "output_config.json.j2"
    text = out.read_text()
    assert '"Video": {"Crf"' in text
    out.write_text(text.replace('"Video": {"Crf"', '"GeneratePreviewOnly": true,\n  "Video": {"Crf"'))
    return folder


HEADER = ["id", "media:Opening", "media:Product", "titles", "count", "width", "height", "max_duration", "shot_duration",
          "cost", "total"]


def campaign_rows(n: int, prefix: str = "r", media=("media/a.mp4", "media/b.mp4\nmedia/c.png")) -> list[list]:
    return [[f"{prefix}{i}", media[0], media[1], f"Title {i}", 1, 180, 320, 1, 1, 10 + i, f"=J{i + 2}*2"]
            for i in range(n)]


def write_workbook(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    """A styled workbook like a user's: formulas, a fill, a bold header, a width, a second sheet."""
    import openpyxl
    from openpyxl.styles import Font, PatternFill

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Plan"
    ws.append(header)
    for row in rows:
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws["B2"].fill = PatternFill("solid", fgColor="FFFF00")
    ws.column_dimensions["D"].width = 30
    ws.freeze_panes = "A2"
    notes = workbook.create_sheet("Notes")
    notes["A1"] = "keep me"
    notes["B2"] = 42
    workbook.save(path)
    return path


def cell_values(path: Path) -> dict[tuple[str, str], object]:
    """Every non-empty cell of every sheet: (sheet, coordinate) → value (formulas as text)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    try:
        return {(ws.title, c.coordinate): c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row
                if c.value is not None}
    finally:
        workbook.close()


def assert_cells_kept(before: dict, path: Path, context: str = "") -> dict:
    """The workbook at ``path`` opens and holds every cell of ``before`` unchanged; returns its cells."""
    after = cell_values(path)
    changed = {k: (v, after.get(k)) for k, v in before.items() if after.get(k) != v}
    assert not changed, f"{context}: original cells changed: {list(changed.items())[:5]}"
    return after


def result_table(path: Path, sheet: str = "Plan") -> list[dict[str, str]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = [str(h) for h in rows[0]]
    return [{h: ("" if v is None else str(v)) for h, v in zip(header, row)} for row in rows[1:]]


def tree(root: Path) -> dict[str, str]:
    """relative path → sha256 of the bytes (or 'dir' / 'link -> target'), for before/after comparisons."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                out[rel] = f"link -> {os.readlink(full)}"
            elif full.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(full.read_bytes()).hexdigest()
    return out


# ---------------------------------------------------------------- the command line


def base_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no real credentials, an empty HOME, no bytecode written."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALIBABA_CLOUD_", "SHEET2VIDEO_")) or k == "SHEET2VIDEO_NO_PROBE"}  # tests/conftest.py sets it
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(ROOT), **extra)
    return env


def cli(*args, env: dict, cwd: Path | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """The real command line in a subprocess; a hang fails the test (TimeoutExpired)."""
    return subprocess.run([sys.executable, "-m", "sheet2video", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback (most recent call last)" not in text, text[-3000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)  # the poll interval of a deadline wait


class Serve:
    """``sheet2video serve`` in a subprocess on a fixed port, so it can be killed and restarted on
    the same data folder; with ``supervise=True`` a watcher restarts it whenever it dies (a crash
    fault), like systemd would. ``log`` holds the stderr lines of every life."""

    def __init__(self, data: Path, media_root: Path, *extra: str, env: dict | None = None, supervise: bool = False,
                 port: int | None = None):
        self.data, self.media_root, self.extra = data, media_root, extra
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**(env or os.environ), "SHEET2VIDEO_ENGINE_KEY_ID": KEY_ID, "SHEET2VIDEO_ENGINE_KEY_SECRET": KEY_SECRET,
                    "PYTHONDONTWRITEBYTECODE": "1"}
        self.log: list[str] = []
        self.exits: list[int] = []
        self.lives = 0
        self._lock = threading.RLock()
        self._stopped = False
        self.proc: subprocess.Popen | None = None
        self.start()
        if supervise:
            threading.Thread(target=self._supervise, daemon=True, name="serve-supervisor").start()

    def start(self) -> None:
        ready = threading.Event()
        for _ in range(3):  # the port of a just-killed server can take a moment to free
            proc = subprocess.Popen(
                [sys.executable, "-m", "sheet2video", "serve", "--port", str(self.port), "--data", str(self.data),
                 "--media-root", str(self.media_root), *self.extra],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=self.env,
            )

            def drain(stream=proc.stderr):
                for line in stream:
                    self.log.append(line.rstrip("\n"))
                    if "listening on" in line:
                        ready.set()

            threading.Thread(target=drain, daemon=True).start()
            deadline = time.monotonic() + 60
            while not ready.wait(0.05) and proc.poll() is None and time.monotonic() < deadline:
                pass
            if ready.is_set():
                self.proc = proc
                self.lives += 1
                return
            proc.kill()
            proc.wait()
        raise AssertionError("the engine did not start:\n" + "\n".join(self.log[-20:]))

    def _supervise(self) -> None:
        while True:
            with self._lock:
                proc = self.proc
            code = proc.wait()
            with self._lock:
                if self._stopped or proc is not self.proc:
                    if self._stopped:
                        return
                    continue
                self.exits.append(code)
                self.start()

    def kill(self) -> None:
        """kill -9, as a power cut or the OOM killer would."""
        with self._lock:
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            if self.proc:
                self.proc.wait()

    def restart(self) -> None:
        with self._lock:
            self.kill()
            self.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        self.kill()

    def faults_injected(self) -> Counter:
        counts = Counter()
        for line in self.log:
            match = re.search(r"fault injected: (\w+) on", line)
            if match:
                counts[match.group(1)] += 1
        return counts

    def client(self, **kw):
        from sheet2video.cloud.client import ImsClient
        from sheet2video.cloud.credentials import Credentials

        return ImsClient(self.url, Credentials(KEY_ID, KEY_SECRET), **kw)

    def all_jobs(self, client=None) -> list[dict]:
        client = client or self.client(max_retries=30, backoff_base=0.05, backoff_max=1)
        return list(client.iter_batch_jobs())


@pytest.fixture
def serve():
    """Start ``Serve`` instances; all are killed at the end of the test."""
    started: list[Serve] = []

    def start(*args, **kw) -> Serve:
        server = Serve(*args, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
