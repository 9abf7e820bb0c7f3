import os
import re
import shutil
import threading
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.media import make_image, make_video

ROOT = Path(__file__).resolve().parents[2]
KEY_ID, KEY_SECRET = "LTAItestkey0001", "s3cr3t-Never-Print-Me-42"


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    """A few tiny clips and a still, shared by the run tests."""
    folder = tmp_path_factory.mktemp("media")
    make_video(folder / "a.mp4", 2.0, "180x320", color="red")
    make_video(folder / "b.mp4", 2.0, "320x180", color="green", with_audio=440)
    make_image(folder / "c.png", "200x200", "blue")
    return folder


@pytest.fixture
def campaign(tmp_path, media_dir):
    """A folder holding the media (as media/) and a function that writes a sheet into it."""
    shutil.copytree(media_dir, tmp_path / "media")  # a copy: the engine reads nothing outside the sheet's folder

    def make(rows: int = 3, name: str = "campaign.csv", extra: str = "", **cells) -> Path:
        header = "id,media:Opening,media:Product,titles,count,width,height,max_duration,shot_duration" + (f",{extra}" if extra else "")
        lines = [header]
        for i in range(rows):
            values = [f"r{i}", "media/a.mp4", "media/b.mp4\nmedia/c.png", f"Title {i}", "1", "180", "320", "2", "1"]
            line = ",".join(f'"{v}"' for v in values)
            if extra:
                line += "," + ",".join(f'"{cells.get(c, "")}"' for c in extra.split(","))
            lines.append(line)
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return make


def cli(*args, env=None, cwd=None, timeout=300):
    """Run the real command line in a subprocess (exit codes and output as a user sees them)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "sheet2video", *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


class Server:
    """`sheet2video serve` in a subprocess: survives the runner being killed, like a real server."""

    def __init__(self, data: Path, media_root: Path, *extra: str):
        env = {**os.environ, "SHEET2VIDEO_ENGINE_KEY_ID": KEY_ID, "SHEET2VIDEO_ENGINE_KEY_SECRET": KEY_SECRET}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sheet2video", "serve", "--port", "0", "--data", str(data), "--media-root", str(media_root), *extra],
            stderr=subprocess.PIPE, text=True, env=env,
        )
        deadline = time.monotonic() + 60
        self.url = None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                self.url = match.group(1)
                break
            if not line and self.proc.poll() is not None:
                break
        assert self.url, "the engine did not start"
        self.log: list[str] = []
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()  # keep the pipe drained

    def client(self):
        from sheet2video.cloud.client import ImsClient
        from sheet2video.cloud.credentials import Credentials

        return ImsClient(self.url, Credentials(KEY_ID, KEY_SECRET))

    def all_jobs(self):
        return list(self.client().iter_batch_jobs())

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def server(tmp_path):
    servers = []

    def start(media_root: Path, *extra: str) -> Server:
        s = Server(tmp_path / f"engine{len(servers)}", media_root, *extra)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


CLOUD_ENV = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": KEY_SECRET}
