"""The commands that work on a campaign sheet: plan, run, sync and report."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from sheet2video.cli.common import echo_err, handle_errors, load_plan, parse_delimiter, sheet_options
from sheet2video.errors import ConfigError

__all__ = ["plan", "run", "sync", "report"]


@click.command()
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
        echo_err(f"wrote {len(planned)} job file(s) to {out}")
        return
    from sheet2video.console.plan_table import print_plan

    print_plan(sheet_data, planned)


def _write_plan_dir(folder: Path, planned) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for job in planned:
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in job.key) + ".json"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(job.to_json() + "\n")
        os.replace(tmp, folder / name)

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
    from sheet2video.plan.campaign import parse_row_selection
    from sheet2video.run.options import RunOptions

    options = RunOptions(
        templates=kw["templates"], sheet_name=kw["sheet_name"], encoding=kw["encoding"], delimiter=parse_delimiter(kw["delimiter"]),
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

    from sheet2video.console.progress import print_summary

    if as_json:
        click.echo(_json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        print_summary(summary)
    sys.exit(summary.exit_code)


@click.command()
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
      caption_position top|middle|bottom [bottom]   caption_style clean|box|outline|karaoke [clean]
      caption_box yes|no|#rrggbb[aa]   title_font, title_size, title_color, title_position, title_box
      transition NAME[,NAME…]|none [fade]   transition_duration [0.4]
      motion auto|none|zoomin,moveleft… [auto: photos drift]   fit blur|contain|cover|#rrggbb [blur]
      logo IMAGE   logo_position top-left|top-right|bottom-left|bottom-right [top-left]
      voice NAME[,NAME…] (sheet2video voices)   loudness LUFS|off [-16]
      speech_join yes|no [no: each speech line is another video's script]

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
        from sheet2video.console.plan_table import print_plan

        print_plan(sheet_data, planned, kw["endpoint"])
        return
    from sheet2video.console.progress import make_reporter
    from sheet2video.run.runner import run_sheet

    options = _run_options(**kw)
    options.wait = not no_wait
    options.preview = preview
    if no_wait and options.backend == "local" and not options.endpoint:
        echo_err("note: the embedded engine renders only while sheet2video runs; 'sheet2video sync' finishes the jobs")
    summary = run_sheet(sheet, options, make_reporter(quiet or as_json))
    _finish_run(summary, as_json)


@click.command()
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
    from sheet2video.console.progress import make_reporter
    from sheet2video.run.runner import run_sheet

    options = _run_options(**kw)
    options.wait = wait if wait is not None else (options.backend == "local" and not options.endpoint)
    summary = run_sheet(sheet, options, make_reporter(quiet or as_json), submit=False)
    _finish_run(summary, as_json)


@click.command()
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
