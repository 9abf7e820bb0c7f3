"""The commands around the local engine: serve, voices and examples."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sheet2video.cli.common import echo_err, handle_errors
from sheet2video.cli.farm_options import farm_options
from sheet2video.engine.api.budgets import DEFAULT_JOB_SPEECH_CHARS, DEFAULT_JOB_VIDEO_SECONDS
from sheet2video.errors import ConfigError

__all__ = ["serve", "voices", "examples"]


def _default_data() -> Path:
    """The XDG data folder: never inside the default media root (the current folder) unless started from it."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "sheet2video" / "engine"


def _openings(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    """--allow-fetch/--allow-callback entries, each checked now (a typo is exit 2, not a closed door)."""
    from sheet2video.engine.outbound import Opening

    for value in values:
        try:
            Opening.parse(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
    return values


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind. Anything but loopback exposes the engine to the network.")
@click.option("--port", default=8090, show_default=True, type=int, help="Port to listen on (0: any free port).")
@click.option("--data", "data", default=lambda: _default_data(), show_default="$XDG_DATA_HOME/sheet2video/engine, else ~/.local/share/sheet2video/engine",
              type=click.Path(path_type=Path), help="Folder for the job store, the key, caches and rendered outputs. Kept out of the media root by default; "
              "wherever it is, no media reference can read it (but its outputs).")
@click.option("--media-root", default=".", show_default=True, type=click.Path(path_type=Path, file_okay=False), help="Only media under this folder can be read (besides http(s) URLs).")
@click.option("--workers", type=click.IntRange(1, 64), help="Videos rendered at once (default: the CPU count).")
@click.option("--key-id", envvar="SHEET2VIDEO_ENGINE_KEY_ID", help="AccessKey id clients sign with [env SHEET2VIDEO_ENGINE_KEY_ID].")
@click.option("--key-secret", envvar="SHEET2VIDEO_ENGINE_KEY_SECRET", help="Its secret [env SHEET2VIDEO_ENGINE_KEY_SECRET]; prefer the variable.")
@click.option("--qps", type=click.FloatRange(min=0.1), help="Per-key request limit; beyond it answer Throttling.User as the cloud does.")
@click.option("--callback-auth-key", envvar="SHEET2VIDEO_CALLBACK_AUTH_KEY", help="Sign callbacks with X-ICE-SIGNATURE using this key.")
@click.option("--faults", metavar="SPEC", help="Testing only: inject seeded faults, e.g. seed=1,error=0.1,drop=0.05,crash=0.02 (see sheet2video/engine/api/faults.py).")
@click.option("--storage-endpoint", metavar="URL", help="S3-compatible endpoint of --storage-bucket (OSS: https://oss-REGION.aliyuncs.com; AWS S3: leave out).")
@click.option("--storage-bucket", metavar="NAME", help="Read media given as oss://, s3:// or https URLs of this bucket, and write outputs whose MediaURL is one, through object storage.")
@click.option("--storage-region", metavar="REGION", help="Region of --storage-bucket (checked; names its OSS https URLs).")
@click.option("--allow-fetch", "allow_fetch", multiple=True, metavar="CIDR|HOST[:PORT]", callback=_openings,
              help="Let media URLs and RegisterMediaInfo reach this CIDR, address or host name, on any port or the one given (repeatable; IPv6 as [::1]:8080), e.g. a team's MinIO: 10.0.0.5:9000. By default a shared server refuses loopback, private, link-local (169.254.169.254), CGNAT, unspecified and IPv4-mapped addresses, on every redirect too, and a failed fetch reads the same whatever the far side did (the log says why). The --storage-bucket endpoint is always reachable. The engine 'sheet2video run' starts itself (no --endpoint) reaches loopback and private networks: it is your own machine.")
@click.option("--allow-callback", "allow_callback", multiple=True, metavar="CIDR|HOST[:PORT]", callback=_openings,
              help="Let UserData.NotifyAddress callbacks reach this CIDR, address or host name, as --allow-fetch (repeatable), e.g. a webhook on 127.0.0.1:8080. A refused callback is never sent, only logged.")
@click.option("--max-job-video-seconds", type=click.FloatRange(min=0), default=DEFAULT_JOB_VIDEO_SECONDS, show_default=True, metavar="SECONDS",
              help="Per-job video budget: Count × duration, counted at 1080x1920 (a 4K output counts ~4x, 180x320 1/36). Over it: refused at Submit, or failed once planned, before rendering. 0: no limit.")
@click.option("--max-job-speech-chars", type=click.IntRange(min=0), default=DEFAULT_JOB_SPEECH_CHARS, show_default=True, metavar="N",
              help="Per-job speech budget: characters of voice-over synthesised (the cloud's maximum list is 50 x 1000). 0: no limit.")
@click.option("--render-timeout-factor", type=click.FloatRange(min=0.1), default=30.0, show_default=True, metavar="X",
              help="Stop a render after X times its output's duration (at least 120 s): it fails with RenderFailed.")
@farm_options
@handle_errors
def serve(host, port, data, media_root, workers, key_id, key_secret, qps, callback_auth_key, faults,
          storage_endpoint, storage_bucket, storage_region, allow_fetch=(), allow_callback=(), max_job_video_seconds=DEFAULT_JOB_VIDEO_SECONDS,
          max_job_speech_chars=DEFAULT_JOB_SPEECH_CHARS, render_timeout_factor=30.0, farm=None,
          farm_results=None, visibility_timeout=None):
    """Run the local IMS-compatible render engine as a server.

    It speaks the IMS RPC protocol (SubmitBatchMediaProducingJob, GetBatchMediaProducingJob,
    ListBatchMediaProducingJobs, RegisterMediaInfo, GetMediaInfo) with signed requests,
    renders with FFmpeg and serves the videos under /outputs/<JobId>/ to presigned URLs (24 h)
    only. Without a key pair it creates one in DATA/engine-key.json (readable by you only);
    no media reference reaches DATA but its outputs, wherever --media-root is.

    \b
    Examples:
      sheet2video serve --media-root demo --data demo/engine     # the example campaigns' media (sheet2video examples)
      SHEET2VIDEO_ENGINE_KEY_ID=team SHEET2VIDEO_ENGINE_KEY_SECRET=change-me sheet2video serve --media-root demo --data demo/engine-9000 --port 9000
      ALIBABA_CLOUD_ACCESS_KEY_ID=team ALIBABA_CLOUD_ACCESS_KEY_SECRET=change-me sheet2video run demo/campaign_en.xlsx --endpoint http://127.0.0.1:9000
      sheet2video serve --media-root demo --data demo/engine-farm --port 8091 --farm redis://127.0.0.1:6390/0 --storage-endpoint http://127.0.0.1:9100 --storage-bucket renders   # renders on 'sheet2video worker's (bucket: AWS_* credentials)
    """
    from sheet2video.engine.api.server import Engine, EngineConfig, load_or_create_keys

    if bool(key_id) != bool(key_secret):
        raise ConfigError("give both the key id and the key secret, or neither")
    keys, where = ({key_id: key_secret}, None) if key_id else load_or_create_keys(data)
    if storage_endpoint and not storage_bucket:
        raise ConfigError("--storage-endpoint needs --storage-bucket")
    config = EngineConfig(data=data, media_root=media_root, keys=keys, qps=qps, callback_auth_key=callback_auth_key,
                          faults=faults, storage_endpoint=storage_endpoint, storage_bucket=storage_bucket,
                          storage_region=storage_region, allow_fetch=allow_fetch, allow_callback=allow_callback)
    if workers:
        config.workers = workers
    config.max_job_video_seconds = max_job_video_seconds or None  # 0: no limit
    config.max_job_speech_chars = max_job_speech_chars or None
    config.render_timeout_factor = render_timeout_factor
    if farm:  # renders go to Celery workers (engine/farm); checked now: an unreachable broker is exit 2
        from sheet2video.engine.farm.setup import executor_factory

        config.executor_factory, shown = executor_factory(farm, farm_results, visibility_timeout, storage_bucket,
                                                          storage_endpoint, storage_region)
        echo_err(f"farm: broker {shown}, bucket {storage_bucket}")
    engine = Engine(config)
    for kid in keys:
        echo_err(f"access key id: {kid}" + (f" (secret stored in {where})" if where else ""))
    echo_err(f"media root: {media_root.resolve()}   data: {data.resolve()}   workers: {'the farm' if farm else config.workers}")
    if storage_bucket:
        echo_err(f"object storage: bucket {storage_bucket} at {storage_endpoint or 'AWS S3'}")
    if faults:
        echo_err(f"fault injection is on (testing only): {faults}")
    try:
        engine.serve_forever(host, port, lambda url: echo_err(f"listening on {url}  (Ctrl+C to stop)"))
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON (one object per local voice).")
@click.option("--demo", is_flag=True, help="Write an HTML page with one short sample per voice, to listen and compare.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default="voices-demo.html", show_default=True,
              help="Where --demo writes its page (samples embedded; cached in $XDG_CACHE_HOME/sheet2video/voice-demo).")
@click.option("--language", metavar="LANG", help="With --demo: only the voices of this language (ja, en, cmn …).")
@handle_errors
def voices(as_json, demo=False, out=Path("voices-demo.html"), language=None):
    """List the local engine's voices, their languages, and the cloud voice names mapped to them.

    SpeechConfig.Voice may name a cloud voice (xiaoyun, zhitian_emo, andy …): the local engine
    speaks it with the nearest local voice of the same language and gender. It may also name a
    local voice directly (joe, cmn+f3, en-us …) or list several (zhiru,zhilun: one per video).
    Without a voice, the script's language chooses (SpeechLanguage, else its Unicode script).
    English goes to Piper's neural voice 'joe' when installed, Japanese to Kokoro's neural voices
    (jf_alpha, jm_kumo …), everything else to espeak-ng.

    A team's own Piper voices (NAME.onnx + NAME.onnx.json) in the folder $SHEET2VIDEO_VOICES_DIR
    are listed too (engine "own") and picked by NAME in Voice, the sheet's voice column, or
    CustomizedVoice; an own voice wins over a built-in or cloud name it shares. A broken one
    (bad JSON, missing half, not an ONNX model) is an error at plan time. A Kokoro style vector
    NAME.npy there is an own Japanese voice spoken by the Kokoro model.

    \b
    Examples:
      sheet2video voices
      sheet2video voices --json
      sheet2video voices --demo --language en --out demo/voices-en.html   # without --language: every voice, yours too
    """
    import json

    from sheet2video.engine.speech import kokoro as kokoro_tts
    from sheet2video.engine.speech import piper as piper_tts
    from sheet2video.engine.speech.voices import table

    if demo:
        from sheet2video.engine.speech.voice_demo import demo_page

        count, problems = demo_page(out, language=language)
        for line in problems:
            echo_err(f"not sampled: {line}")
        echo_err(f"{count} voice samples in {out}")
        return
    rows = table()
    piper, kokoro = piper_tts.available(), kokoro_tts.available()
    for row in rows:
        row["installed"] = {"piper": piper, "kokoro": kokoro}.get(row["engine"], not row.get("problem"))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    grid = Table(title="Local voices (Voice may be any name below)")
    for column in ("voice", "engine", "language", "gender", "cloud voices mapped to it"):
        grid.add_column(column, overflow="fold")
    for row in rows:
        missing = " (broken, see below)" if row.get("problem") else f" (not installed: {row['fallback']})"
        engine = row["engine"] + ("" if row["installed"] else missing)
        grid.add_row(row["voice"], engine, row["language"], row["gender"], ", ".join(row["cloud_voices"]))
    Console().print(grid)
    for row in rows:
        if row.get("problem"):
            echo_err(row["problem"])


@click.command()
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
    from sheet2video.samples.examples import prepare_examples

    sheets = prepare_examples(folder)
    echo_err(f"{len(sheets)} example sheets in {folder}: {', '.join(p.name for p in sheets)}")
    echo_err(f"their media in {folder / 'media'}; next: sheet2video plan {folder / 'campaign_en.xlsx'}")
