"""The command line: a thin layer that parses options, calls the library and prints.

Every user mistake ends as one clear line on stderr and a documented exit code, never a traceback:
0 done, 1 some rows failed, 2 invalid input or configuration (nothing sent), 3 another run holds
the lock, 4 authentication or service error.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from pathlib import Path

import click

from sheet2video import __version__
from sheet2video.engine.farm.options import farm_options
from sheet2video.errors import ConfigError, PreflightError, Sheet2VideoError


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def handle_errors(func):
    """Turn library errors into one line each and the right exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PreflightError as error:
            for problem in error.problems:
                _echo_err(f"error: {problem}")
            _echo_err(f"{len(error.problems)} problem(s) found; nothing was sent or written.")
            sys.exit(error.exit_code)
        except Sheet2VideoError as error:
            _echo_err(f"error: {error}")
            sys.exit(error.exit_code)
        except KeyboardInterrupt as interrupt:  # a run says how far it got (runner.Interrupted); else one word
            _echo_err(str(interrupt) or "interrupted")
            _exit_now(130)

    return wrapper


def _exit_now(code: int) -> None:
    """Exit without waiting for render threads: their FFmpeg dies with the process (render.py sets
    PR_SET_PDEATHSIG), exactly as after a crash the engine recovers from; the next run resumes."""
    import logging

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)


def sheet_options(func):
    """The input options every command that reads a sheet shares (csvkit style)."""
    options = [
        click.option("--sheet", "sheet_name", metavar="NAME|INDEX", help="Worksheet of an .xlsx by name or 0-based index (default: the first)."),
        click.option("--encoding", metavar="ENC", help="Encoding of a CSV (default UTF-8, with or without BOM; e.g. gbk)."),
        click.option("--delimiter", metavar="CHAR", help="CSV delimiter (default: sniffed from the header among , ; TAB |)."),
        click.option(
            "--templates",
            "templates",
            default="script",
            show_default=True,
            metavar="script|grouped|PATH",
            help="Template set: 'script' (one row = one job), 'grouped' (one row = one media group), or a folder.",
        ),
        click.option("--rows", "rows", metavar="SPEC", help="Only these spreadsheet rows, e.g. 2-40,55 (header is row 1)."),
        click.option("--no-probe", "no_probe", is_flag=True,
                     help="Do not open the local media files at plan time (also SHEET2VIDEO_NO_PROBE=1); bad files then fail at render."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    value = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(value, value)
    if len(value) != 1:
        raise ConfigError(f"--delimiter must be a single character, got {value!r} (use \\t for TAB)")
    return value


def load_plan(path, sheet_name, encoding, delimiter, templates, rows, no_probe=False, media_root=None, strict=False):
    """Read the sheet and preflight every selected row, warnings on stderr (shared by plan and run --dry-run)."""
    from sheet2video.campaign import parse_row_selection, plan_campaign, plan_warnings
    from sheet2video.columns import UnknownColumnCheck
    from sheet2video.preflight_media import MediaCheck, probing_disabled
    from sheet2video.sheet import read_sheet
    from sheet2video.templating import load_template_set

    selection = parse_row_selection(rows)
    template_set = load_template_set(templates)
    sheet = read_sheet(path, sheet=sheet_name, encoding=encoding, delimiter=_delimiter(delimiter))
    checks = () if no_probe or probing_disabled() else (MediaCheck(sheet, template_set, media_root),)
    if strict:
        checks += (UnknownColumnCheck(sheet, template_set),)
    planned = plan_campaign(sheet, template_set, selection, checks=checks)
    for warning in plan_warnings(sheet, planned, template_set):
        _echo_err(f"warning: {warning}")
    return sheet, planned


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sheet2video")
def cli() -> None:
    """Turn a campaign spreadsheet into finished videos.

    Each row of an Excel or CSV sheet becomes an Alibaba Cloud IMS
    SubmitBatchMediaProducingJob ("one-click smart video creation"); the built-in
    local engine renders the same jobs with FFmpeg when there is no cloud account.

    \b
    Start here:
      sheet2video examples demo                   # the example campaigns and their media, in ./demo
      sheet2video plan demo/campaign_en.xlsx      # check every row, show the jobs and their files
      sheet2video plan demo/campaign_en.xlsx --out -   # the exact API parameters
      sheet2video run demo/campaign_en.xlsx       # make the videos, write the results into the sheet
    """


@cli.command()
@click.argument("sheet", type=click.Path(path_type=Path))
@sheet_options
@click.option("--out", "out", metavar="DIR|-", help="Write one <job>.json per job into DIR, or JSON Lines to stdout with '-'.")
@click.option("--strict", is_flag=True, help="A column the template set does not read (a typo such as shot_duraton) is an error, not a warning.")
@handle_errors
def plan(sheet, sheet_name, encoding, delimiter, templates, rows, out, no_probe, strict):
    """Check every row and build the exact IMS job parameters, sending nothing.

    Every selected row is validated first; if any is invalid, every problem is
    printed (one line each, naming the row and column) and nothing is written
    (exit 2). The local media files rows name (paths relative to the sheet's
    folder, absolute paths, file:// URLs) are opened too: a missing, unreadable
    or wrong-kind file is such a problem (results cached in .sheet2video/;
    --no-probe skips it). Otherwise each job becomes one JSON object:
    {"job": KEY, "rows": [...], "params": {"ClientToken": ..., "InputConfig": "...", ...}}.

    A column the template set does not read is named in a warning (with the
    column it most looks like: shot_duraton → shot_duration); --strict makes it
    an error. The table shows where each video will be, relative to the sheet.

    \b
    Examples:
      sheet2video examples demo                   # once: the example campaigns and their media
      sheet2video plan demo/campaign_en.xlsx
      sheet2video plan demo/campaign_en.csv --out -
      sheet2video plan demo/grouped_zh.xlsx --templates grouped --out demo/plans/
      sheet2video plan demo/campaign_en.xlsx --rows 2-3,5 --strict --out -
    """
    sheet_data, planned = load_plan(sheet, sheet_name, encoding, delimiter, templates, rows, no_probe, strict=strict)
    if out == "-":
        for job in planned:
            click.echo(job.to_json())
        return
    if out:
        _write_plan_dir(Path(out), planned)
        _echo_err(f"wrote {len(planned)} job file(s) to {out}")
        return
    _print_plan_summary(sheet_data, planned)


def _write_plan_dir(folder: Path, planned) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for job in planned:
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in job.key) + ".json"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(job.to_json() + "\n")
        os.replace(tmp, folder / name)


def _print_plan_summary(sheet_data, planned, endpoint: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from sheet2video.ims.models import job_mode
    from sheet2video.outputs import planned_outputs, shown
    from sheet2video.progress import SUMMARY_JOBS

    console = Console()
    columns = ("job", "rows", "mode", "groups", "titles", "speech", "videos", "output")
    lines = []
    for job in planned[:SUMMARY_JOBS]:
        inputs = job.parsed("InputConfig")
        output = job.parsed("OutputConfig")
        lines.append((
            job.key,
            ",".join(map(str, job.rows)),
            job_mode(inputs),
            str(len(inputs.get("MediaGroupArray") or [])),
            str(len(inputs.get("TitleArray") or [])),
            str(len(inputs.get("SpeechTextArray") or []) or sum(len(g.get("SpeechTextArray") or []) for g in inputs.get("MediaGroupArray") or [])),
            str(output.get("Count", 1)),
            shown(planned_outputs(job, endpoint)),
        ))
    title = f"{sheet_data.path.name} — {len(planned)} job(s), all rows valid"
    more = f"the first {SUMMARY_JOBS} of {len(planned)} jobs; --out - or --out DIR gives them all" if len(planned) > SUMMARY_JOBS else None
    table = Table(*columns, title=title, caption=more)
    for line in lines:
        table.add_row(*line)
    if console.measure(table, options=console.options.update_width(10_000)).maximum <= console.width:
        console.print(table)
    else:  # a narrow terminal: a list, so that no job name or path is cut
        console.print(title, style="italic", highlight=False)
        for line in lines:
            facts = ", ".join(f"{value} {name}" for name, value in zip(columns[3:7], line[3:7]))
            console.print(f"[bold]{line[0]}[/] (row {line[1]}, {line[2]}): {facts}", highlight=False)
            for path in line[7].split("\n"):
                console.print(f"  {path}", highlight=False, soft_wrap=True)
        if more:
            console.print(more, highlight=False)
    total = sum(job.parsed("OutputConfig").get("Count", 1) for job in planned)
    where = " (paths relative to the sheet's folder)" if not endpoint else ""
    console.print(f"{total} video(s) would be made{where}. Use --out - to see the exact API parameters.")


def backend_options(func):
    options = [
        click.option("--backend", type=click.Choice(["local", "aliyun"]), default="local", show_default=True,
                     help="local: the embedded engine renders on this machine; aliyun: Alibaba Cloud IMS."),
        click.option("--region", help="Alibaba Cloud region for --backend aliyun, e.g. cn-shanghai."),
        click.option("--endpoint", metavar="URL", help="Any IMS-compatible endpoint, e.g. a shared 'sheet2video serve'."),
        click.option("--profile", envvar="ALIBABA_CLOUD_PROFILE", help="Credentials profile (~/.alibabacloud/credentials or aliyun CLI)."),
        click.option("--data", type=click.Path(path_type=Path), help="Embedded engine data folder (default: .sheet2video/engine next to the sheet)."),
        click.option("--workers", type=click.IntRange(1, 64), help="Embedded engine: videos rendered at once (default: CPU count)."),
        click.option("--media-root", type=click.Path(path_type=Path, file_okay=False), help="Embedded engine: media may be read only under this folder (default: the sheet's folder)."),
        click.option("--qps", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="At most this many API calls per second."),
        click.option("--bucket", metavar="NAME", help="--backend aliyun: upload the sheet's local files to this OSS bucket (in --region), register them, and write the videos there."),
        click.option("--prefix", metavar="P", help="Key prefix in the bucket: P/inputs/<sha256>.<ext>, P/outputs/<sheet>/… (default: none)."),
        click.option("--storage-endpoint", metavar="URL", help="S3-compatible endpoint of --bucket instead of https://oss-REGION.aliyuncs.com (another store, a test server)."),
        click.option("--download", is_flag=True, help="With --bucket: fetch finished videos into videos/ next to the sheet (resumable, checksummed)."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the results on stdout."),
        click.option("--quiet", "-q", is_flag=True, help="No progress lines (errors, warnings and the summary still print)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_options(**kw):
    from sheet2video.campaign import parse_row_selection
    from sheet2video.runner import RunOptions

    options = RunOptions(
        templates=kw["templates"], sheet_name=kw["sheet_name"], encoding=kw["encoding"], delimiter=_delimiter(kw["delimiter"]),
        rows=parse_row_selection(kw["rows"]), backend=kw["backend"], region=kw["region"], endpoint=kw["endpoint"],
        profile=kw["profile"], data=kw["data"], qps=kw["qps"], workers=kw["workers"], media_root=kw["media_root"],
    )
    options.probe = not kw.get("no_probe")
    for name in ("chunk_size", "max_in_flight", "retry_failed", "force", "callback_url", "callback_auth_key", "timeout",
                 "bucket", "prefix", "storage_endpoint", "download", "strict"):
        if kw.get(name) is not None:
            setattr(options, name, kw[name])
    return options


def _finish_run(summary, as_json: bool) -> None:
    import json as _json

    from sheet2video.progress import print_summary

    if as_json:
        click.echo(_json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        print_summary(summary)
    sys.exit(summary.exit_code)


@cli.command()
@click.argument("sheet", type=click.Path(path_type=Path))
@sheet_options
@backend_options
@click.option("--chunk-size", type=click.IntRange(1, 1000), default=10, show_default=True, help="Jobs per chunk; the sheet is updated after each chunk (less often when saving a big workbook would take more than a tenth of the run).")
@click.option("--max-in-flight", type=click.IntRange(1, 10000), default=50, show_default=True, help="At most this many jobs submitted and not yet finished.")
@click.option("--no-wait", "no_wait", is_flag=True, help="Submit and exit; collect results later with 'sheet2video sync'.")
@click.option("--dry-run", is_flag=True, help="Only plan and validate (same as 'sheet2video plan').")
@click.option("--retry-failed", is_flag=True, help="Submit again the rows whose job failed.")
@click.option("--force", is_flag=True, help="Submit every selected row again, even finished ones (new jobs, billed again).")
@click.option("--callback-url", metavar="URL", help="Listen here for job-complete callbacks instead of polling often (http://HOST:PORT/path).")
@click.option("--callback-auth-key", envvar="SHEET2VIDEO_CALLBACK_AUTH_KEY", help="Verify X-ICE-SIGNATURE of callbacks with this key.")
@click.option("--timeout", type=click.FloatRange(min=1), help="Stop waiting after this many seconds (jobs go on; use sync).")
@click.option("--preview", is_flag=True, help="Fast drafts first: short side 360 px, one video per row, into <sheet>-preview/; nothing is written into the sheet or counted as done.")
@click.option("--strict", is_flag=True, help="A column the template set does not read (a typo such as shot_duraton) is an error, not a warning.")
@handle_errors
def run(sheet, no_wait, dry_run, as_json, quiet, preview, **kw):
    """Make the videos of a campaign sheet and write the results back into it.

    Every selected row is validated first (exit 2, nothing sent, if any is
    invalid). Jobs are submitted in chunks within the QPS limit; the run waits
    for them and writes job_id, status, videos, media_ids, durations, error
    and updated_at into columns after yours (plus video_1, duration_1, … per
    video when a row makes several; a disabled row's status says so). A ledger next to the sheet makes
    reruns safe: only new, changed (and with --retry-failed, failed) rows are
    submitted, never a finished row twice.

    \b
    Exit codes: 0 all done, 1 some rows failed, 2 invalid input (nothing sent),
                3 another run holds the sheet (or the engine folder),
                4 authentication or service error.

    \b
    How the videos look, per row (blank = the default in brackets):
      captions yes|no [yes]   caption_size small|medium|large|PX   caption_color #rrggbb
      caption_position top|middle|bottom [bottom]   title_font, title_size, title_color,
      title_position, title_box   transition NAME[,NAME…]|none [fade]   transition_duration [0.4]
      motion auto|none|zoomin,moveleft… [auto: photos drift]   fit blur|contain|cover|#rrggbb [blur]
      logo IMAGE   voice NAME[,NAME…] (sheet2video voices)   loudness LUFS|off [-16]

    \b
    Examples:
      sheet2video examples demo                          # once: the example campaigns and their media
      sheet2video run demo/campaign_en.xlsx              # render locally, fill in the sheet
      sheet2video run demo/campaign_en.xlsx --preview        # quick 360 px drafts, one per row, first
      sheet2video run demo/campaign_en.csv --rows 2-3 --json   # some rows, machine-readable result
      sheet2video run demo/cloud_en.csv --backend aliyun --region cn-shanghai   # media and outputs on OSS
      sheet2video run demo/campaign_en.xlsx --endpoint http://127.0.0.1:8090 --no-wait   # a 'sheet2video serve': submit…
      sheet2video sync demo/campaign_en.xlsx --endpoint http://127.0.0.1:8090            # …collect later (cron)
    """
    if dry_run:
        sheet_data, planned = load_plan(sheet, kw["sheet_name"], kw["encoding"], kw["delimiter"], kw["templates"], kw["rows"],
                                        kw["no_probe"] or bool(kw["endpoint"]), kw["media_root"] if kw["backend"] == "local" else None,
                                        strict=kw["strict"])
        _print_plan_summary(sheet_data, planned, kw["endpoint"])
        return
    from sheet2video.progress import make_reporter
    from sheet2video.runner import run_sheet

    options = _run_options(**kw)
    options.wait = not no_wait
    options.preview = preview
    if no_wait and options.backend == "local" and not options.endpoint:
        _echo_err("note: the embedded engine renders only while sheet2video runs; 'sheet2video sync' finishes the jobs")
    summary = run_sheet(sheet, options, make_reporter(quiet or as_json))
    _finish_run(summary, as_json)


@cli.command()
@click.argument("sheet", type=click.Path(path_type=Path))
@sheet_options
@backend_options
@click.option("--wait/--no-wait", default=None, help="Wait until every job ends (default: wait with the embedded engine, which only renders while running).")
@click.option("--timeout", type=click.FloatRange(min=1), help="Stop waiting after this many seconds.")
@handle_errors
def sync(sheet, wait, as_json, quiet, **kw):
    """Collect the results of submitted jobs and write them into the sheet; submit nothing new.

    The cron pattern: 'run --no-wait' submits, 'sync' later fills in statuses and
    video links. A submission a crash interrupted is completed with the same
    ClientToken (the same job, never a second one).

    \b
    Examples:
      sheet2video sync demo/campaign_en.xlsx --endpoint http://127.0.0.1:8090
      sheet2video sync demo/cloud_en.csv --backend aliyun --region cn-shanghai --json
    """
    from sheet2video.progress import make_reporter
    from sheet2video.runner import run_sheet

    options = _run_options(**kw)
    options.wait = wait if wait is not None else (options.backend == "local" and not options.endpoint)
    summary = run_sheet(sheet, options, make_reporter(quiet or as_json), submit=False)
    _finish_run(summary, as_json)


@cli.command()
@click.argument("sheet", type=click.Path(path_type=Path))
@handle_errors
def report(sheet):
    """Build the campaign's HTML report again from what its runs recorded.

    Every run and sync writes <sheet stem>.report.html next to the sheet: one card
    per video with its poster, a player, the title, speech and voice it got, its
    status and what went wrong in plain words, and a filter by status. One file,
    no server needed: open it in a browser, or share the folder. Before any real
    run it shows the drafts of 'run --preview'.

    \b
    Examples:
      sheet2video report demo/campaign_en.xlsx   # after a run of it: writes demo/campaign_en.report.html
    """
    from sheet2video.report import has_runs, write_report

    if not has_runs(sheet):
        raise ConfigError(f"no run of {sheet.name} is recorded yet; run 'sheet2video run {sheet}' (or with --preview) first")
    try:
        path = write_report(sheet)
    except OSError as error:
        raise ConfigError(f"cannot write the report next to {sheet.name}: {error.strerror or error}") from None
    click.echo(str(path))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind. Anything but loopback exposes the engine to the network.")
@click.option("--port", default=8090, show_default=True, type=int, help="Port to listen on (0: any free port).")
@click.option("--data", "data", default=".sheet2video-engine", show_default=True, type=click.Path(path_type=Path), help="Folder for the job store, caches and rendered outputs.")
@click.option("--media-root", default=".", show_default=True, type=click.Path(path_type=Path, file_okay=False), help="Only media under this folder can be read (besides http(s) URLs).")
@click.option("--workers", type=click.IntRange(1, 64), help="Videos rendered at once (default: the CPU count).")
@click.option("--key-id", envvar="SHEET2VIDEO_ENGINE_KEY_ID", help="AccessKey id clients sign with [env SHEET2VIDEO_ENGINE_KEY_ID].")
@click.option("--key-secret", envvar="SHEET2VIDEO_ENGINE_KEY_SECRET", help="Its secret [env SHEET2VIDEO_ENGINE_KEY_SECRET]; prefer the variable.")
@click.option("--qps", type=click.FloatRange(min=0.1), help="Per-key request limit; beyond it answer Throttling.User as the cloud does.")
@click.option("--callback-auth-key", envvar="SHEET2VIDEO_CALLBACK_AUTH_KEY", help="Sign callbacks with X-ICE-SIGNATURE using this key.")
@click.option("--faults", metavar="SPEC", help="Testing only: inject seeded faults, e.g. seed=1,error=0.1,drop=0.05,crash=0.02 (see sheet2video/engine/faults.py).")
@click.option("--storage-endpoint", metavar="URL", help="S3-compatible endpoint of --storage-bucket (OSS: https://oss-REGION.aliyuncs.com; AWS S3: leave out).")
@click.option("--storage-bucket", metavar="NAME", help="Read media given as oss://, s3:// or https URLs of this bucket, and write outputs whose MediaURL is one, through object storage.")
@click.option("--storage-region", metavar="REGION", help="Region of --storage-bucket (checked; names its OSS https URLs).")
@farm_options
@handle_errors
def serve(host, port, data, media_root, workers, key_id, key_secret, qps, callback_auth_key, faults,
          storage_endpoint, storage_bucket, storage_region, farm=None, farm_results=None, visibility_timeout=None):
    """Run the local IMS-compatible render engine as a server.

    It speaks the IMS RPC protocol (SubmitBatchMediaProducingJob, GetBatchMediaProducingJob,
    ListBatchMediaProducingJobs, RegisterMediaInfo, GetMediaInfo) with signed requests,
    renders with FFmpeg and serves the videos under /outputs/. Without a key pair it
    creates one and stores it in DATA/engine-key.json (readable by you only).

    \b
    Examples:
      sheet2video serve --media-root demo --data demo/engine     # the example campaigns' media (sheet2video examples)
      SHEET2VIDEO_ENGINE_KEY_ID=team SHEET2VIDEO_ENGINE_KEY_SECRET=change-me sheet2video serve --media-root demo --data demo/engine-9000 --port 9000
      ALIBABA_CLOUD_ACCESS_KEY_ID=team ALIBABA_CLOUD_ACCESS_KEY_SECRET=change-me sheet2video run demo/campaign_en.xlsx --endpoint http://127.0.0.1:9000
      sheet2video serve --media-root demo --data demo/engine-farm --port 8091 --farm redis://127.0.0.1:6390/0 --storage-endpoint http://127.0.0.1:9100 --storage-bucket renders   # renders on 'sheet2video worker's (bucket: AWS_* credentials)
    """
    from sheet2video.engine.server import Engine, EngineConfig, load_or_create_keys

    if bool(key_id) != bool(key_secret):
        raise ConfigError("give both the key id and the key secret, or neither")
    keys, where = ({key_id: key_secret}, None) if key_id else load_or_create_keys(data)
    if storage_endpoint and not storage_bucket:
        raise ConfigError("--storage-endpoint needs --storage-bucket")
    config = EngineConfig(data=data, media_root=media_root, keys=keys, qps=qps, callback_auth_key=callback_auth_key,
                          faults=faults, storage_endpoint=storage_endpoint, storage_bucket=storage_bucket,
                          storage_region=storage_region)
    if workers:
        config.workers = workers
    if farm:  # renders go to Celery workers (engine/farm); checked now: an unreachable broker is exit 2
        from sheet2video.engine.farm.setup import executor_factory

        config.executor_factory, shown = executor_factory(farm, farm_results, visibility_timeout, storage_bucket,
                                                          storage_endpoint, storage_region)
        _echo_err(f"farm: broker {shown}, bucket {storage_bucket}")
    engine = Engine(config)
    for kid in keys:
        _echo_err(f"access key id: {kid}" + (f" (secret stored in {where})" if where else ""))
    _echo_err(f"media root: {media_root.resolve()}   data: {data.resolve()}   workers: {'the farm' if farm else config.workers}")
    if storage_bucket:
        _echo_err(f"object storage: bucket {storage_bucket} at {storage_endpoint or 'AWS S3'}")
    if faults:
        _echo_err(f"fault injection is on (testing only): {faults}")
    try:
        engine.serve_forever(host, port, lambda url: _echo_err(f"listening on {url}  (Ctrl+C to stop)"))
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON (one object per local voice).")
@handle_errors
def voices(as_json):
    """List the local engine's voices, their languages, and the cloud voice names mapped to them.

    SpeechConfig.Voice may name a cloud voice (xiaoyun, zhitian_emo, andy …): the local engine
    speaks it with the nearest local voice of the same language and gender. It may also name a
    local voice directly (joe, cmn+f3, en-us …) or list several (zhiru,zhilun: one per video).
    Without a voice, the script's language chooses (SpeechLanguage, else its Unicode script).
    English goes to Piper's neural voice 'joe' when installed, everything else to espeak-ng.

    \b
    Examples:
      sheet2video voices
      sheet2video voices --json
    """
    import json

    from sheet2video.engine import piper_tts
    from sheet2video.engine.voices import table

    rows = table()
    piper = piper_tts.available()
    for row in rows:
        row["installed"] = piper if row["engine"] == "piper" else True
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    grid = Table(title="Local voices (Voice may be any name below)")
    for column in ("voice", "engine", "language", "gender", "cloud voices mapped to it"):
        grid.add_column(column, overflow="fold")
    for row in rows:
        engine = row["engine"] + ("" if row["installed"] else f" (not installed: {row['fallback']})")
        grid.add_row(row["voice"], engine, row["language"], row["gender"], ", ".join(row["cloud_voices"]))
    Console().print(grid)


@cli.command()
@click.argument("folder", default="demo", type=click.Path(path_type=Path, file_okay=False))
@handle_errors
def examples(folder):
    """Copy the example campaigns into FOLDER (default ./demo) and generate their sample media.

    The example sheets (example_sheets/, see its README) name their media relative to the sheet
    (media/opening_1.mp4 …); the media are drawn here, in a few seconds, into FOLDER/media. The
    copies are yours to plan, run, edit and rerun (a copy already in FOLDER is kept, with its
    results); example_sheets/ itself is never written. cloud_en.csv is the English campaign with
    its media and outputs on OSS, the shape of a sheet for --backend aliyun.

    \b
    Examples:
      sheet2video examples demo                 # ./demo (git-ignored in a clone)
      sheet2video plan demo/campaign_en.xlsx    # then plan or run any of them
    """
    from sheet2video.examples import prepare_examples

    sheets = prepare_examples(folder)
    _echo_err(f"{len(sheets)} example sheets in {folder}: {', '.join(p.name for p in sheets)}")
    _echo_err(f"their media in {folder / 'media'}; next: sheet2video plan {folder / 'campaign_en.xlsx'}")


from sheet2video.engine.farm.commands import farm as _farm_group, worker as _worker  # noqa: E402 (they use handle_errors)

cli.add_command(_worker)
cli.add_command(_farm_group)


def main() -> None:
    cli(prog_name="sheet2video")


if __name__ == "__main__":
    main()
