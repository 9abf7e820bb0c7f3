"""Every example line of every command's --help runs as written, in a clean copy of the repository,
and leaves `git status` as it was: examples work from a clean clone and touch no tracked file.

Three adaptations, each the smallest that lets a line run on a test machine: after
`sheet2video examples demo` the render-heavy English campaign is cut to one small row (180×320,
2 s) so the renders take seconds; `--backend aliyun` talks to a stand-in for Alibaba Cloud on
loopback (the one thing mocked: `sheet2video` is started through a shim that points
region_endpoint at it); the lines that need credentials for a `sheet2video serve` get the pair
that serve printed, as its --help says. Everything else is the real command line.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import openpyxl
from click.testing import CliRunner

from sheet2video.cli import cli

ROOT = Path(__file__).resolve().parents[2]
ORDER = ["", "examples", "plan", "voices", "serve", "run", "sync"]  # the group's own help first; serve before its clients
EXAMPLE = re.compile(r"^(?:[A-Z][A-Z0-9_]*=\S+ )*sheet2video( |$)")


def help_examples() -> list[tuple[str, str]]:
    """(command, line) for every example line of every --help, comments cut off."""
    names = sorted(cli.commands, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))
    found = []
    for name in ["", *names]:
        text = CliRunner().invoke(cli, [*([name] if name else []), "--help"], terminal_width=200).output
        for line in text.splitlines():
            line = re.split(r"\s+#\s", line.strip(), maxsplit=1)[0].strip()
            if EXAMPLE.match(line):
                found.append((name, line))
    return found


def test_every_command_has_examples():
    commands = {name for name, _ in help_examples()}
    assert commands == {"", *cli.commands}, "a command without an Examples block in its --help"


class FakeCloud(ThreadingHTTPServer):
    """Alibaba Cloud IMS as far as a run needs it: jobs are accepted and finish at once, their
    videos at the OutputConfig URLs."""

    def __init__(self):
        self.jobs: dict[str, dict] = {}
        super().__init__(("127.0.0.1", 0), _CloudHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _CloudHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        params = dict(parse_qsl(urlsplit(self.path).query)) | dict(parse_qsl(body))
        action, jobs = self.headers.get("x-acs-action"), self.server.jobs
        if action == "SubmitBatchMediaProducingJob":
            job_id = f"job{len(jobs) + 1}"
            jobs[job_id] = {**params, "JobId": job_id, "Status": "Finished"}
            answer = {"JobId": job_id}
        elif action == "GetBatchMediaProducingJob":
            job = jobs[params["JobId"]]
            output = json.loads(job["OutputConfig"])
            subjobs = [{"JobId": f"{job['JobId']}-{i}", "Status": "Success", "MediaId": f"m{i}", "Duration": 2.0,
                        "MediaURL": output["MediaURL"].replace("{index}", str(i))} for i in range(output.get("Count", 1))]
            answer = {"EditingBatchJob": {"JobId": job["JobId"], "Status": "Finished", "SubJobList": subjobs}}
        elif action == "ListBatchMediaProducingJobs":
            answer = {"EditingBatchJobList": [{"JobId": j, "Status": v["Status"]} for j, v in jobs.items()]}
        else:
            answer, status = {"Code": "InvalidAction.NotFound", "Message": action}, 400
        data = json.dumps({"RequestId": "fake", **answer}).encode()
        self.send_response(locals().get("status", 200))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def clean_copy(folder: Path) -> Path:
    """The repository's files (as they are in the working tree) in a fresh git repository."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    repo = folder / "repo"
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_bytes(source.read_bytes())
    git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "clone"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env={**os.environ, **git})
    return repo


def shim(folder: Path, repo: Path) -> Path:
    """`sheet2video` on PATH: the copy's code; with SHEET2VIDEO_TEST_CLOUD, the cloud is the fake one."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = bin_dir / "sheet2video"
    script.write_text(f"""#!{sys.executable}
import os, sys
sys.path.insert(0, {str(repo)!r})
if os.environ.get("SHEET2VIDEO_TEST_CLOUD"):
    import sheet2video.run.backends
    sheet2video.run.backends.region_endpoint = lambda region: os.environ["SHEET2VIDEO_TEST_CLOUD"]
from sheet2video.cli import main
main()
""")
    script.chmod(0o755)
    return bin_dir


def shrink_english_campaign(demo: Path) -> None:
    """campaign_en → its first row, one 180x320 video of 2 s (the other examples stay whole)."""
    small = {"count": 1, "width": 180, "height": 320, "max_duration": 2, "shot_duration": 1,
             "speech": "Pumpkin spice is back."}
    book = openpyxl.load_workbook(demo / "campaign_en.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    for column, value in small.items():
        sheet.cell(2, header.index(column) + 1, value)
    sheet.delete_rows(3, sheet.max_row)
    book.save(demo / "campaign_en.xlsx")
    with open(demo / "campaign_en.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(demo / "campaign_en.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerow({**rows[0], **small})


def start_server(line: str, cwd: Path, env: dict, ready: str = "listening on") -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(["bash", "-c", line], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen = []
    for text in proc.stderr:
        seen.append(text)
        if ready in text:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe drained
            return proc, "".join(seen)
    raise AssertionError(f"{line!r} did not start: {''.join(seen)}")


FARM_REDIS_PORT, FARM_S3_PORT, FARM_BUCKET = 6390, 9100, "renders"  # as the farm examples name them


def start_farm_services(folder: Path, env: dict) -> list[subprocess.Popen]:
    """The broker and bucket the farm examples name: redis-server and an S3 server (moto) on loopback."""
    from tests.engine.farm.conftest import Redis
    from tests.cloud.conftest import S3_ENV, _wait_listening

    env.update(S3_ENV)
    redis = Redis(folder / "redis")
    redis.stop()
    redis.port = FARM_REDIS_PORT
    redis.start()
    s3 = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(FARM_S3_PORT)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    _wait_listening(FARM_S3_PORT, s3)
    import boto3

    boto3.client("s3", endpoint_url=f"http://127.0.0.1:{FARM_S3_PORT}", region_name="us-east-1",
                 aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                 aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket=FARM_BUCKET)
    return [redis.proc, s3]


def test_every_help_example_runs_from_a_clean_clone_and_leaves_git_clean(tmp_path):
    repo = clean_copy(tmp_path)
    cloud = FakeCloud()
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "PATH": f"{shim(tmp_path, repo)}{os.pathsep}{os.environ['PATH']}", "HOME": str(home),
           "PYTHONPATH": str(repo), "SHEET2VIDEO_TEST_CLOUD": cloud.url, "COLUMNS": "120"}
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_PROFILE"):
        env.pop(name, None)
    status = ["git", "status", "--porcelain", "--untracked-files=all"]
    assert subprocess.run(status, cwd=repo, capture_output=True, text=True).stdout == ""
    servers, ran, shrunk, services = [], [], False, []
    try:
        services = start_farm_services(tmp_path, env)
        for command, line in help_examples():
            if " sheet2video worker" in f" {line}":  # runs until stopped, like serve
                servers.append(start_server(line, repo, env, ready=" worker ")[0])
                ran.append(line)
                continue
            if " sheet2video serve" in f" {line}":
                proc, said = start_server(line, repo, env)
                servers.append(proc)
                if "KEY_SECRET=" not in line and "--port" not in line:  # the 8090 engine's generated pair: its clients use it, as serve --help says
                    stored = json.loads((repo / re.search(r"secret stored in (\S+)\)", said).group(1)).read_text())
                    env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = stored["AccessKeyId"]
                    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = stored["AccessKeySecret"]
                ran.append(line)
                continue
            result = subprocess.run(["bash", "-c", line], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, f"`{line}` (in `sheet2video {command} --help`) exited {result.returncode}:\n{result.stderr[-3000:]}"
            assert "Traceback" not in result.stderr, line
            ran.append(line)
            if " examples " in f" {line} " and not shrunk:
                shrink_english_campaign(repo / "demo")
                shrunk = True
    finally:
        for proc in servers:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        for proc in services:
            proc.terminate()
            proc.wait(timeout=30)
    assert subprocess.run(status, cwd=repo, capture_output=True, text=True).stdout == ""  # nothing tracked changed, nothing new outside ignored folders
    assert len(ran) >= 20
    # what the examples claim they did
    videos = sorted(p.relative_to(repo / "demo").as_posix() for p in (repo / "demo/videos").rglob("*.mp4"))
    assert videos == ["videos/campaign_en/pumpkin-latte_0.mp4"]
    assert [json.loads(j["InputConfig"])["MediaGroupArray"][0]["MediaArray"][0] for j in cloud.jobs.values()][0] \
        == "https://your-bucket.oss-cn-shanghai.aliyuncs.com/media/opening_1.mp4"
    with open(repo / "demo/cloud_en.csv", encoding="utf-8-sig", newline="") as handle:
        cloud_rows = list(csv.DictReader(handle))
    assert cloud_rows[0]["videos"].startswith("https://your-bucket.oss-cn-shanghai.aliyuncs.com/videos/pumpkin-latte_0.mp4")
