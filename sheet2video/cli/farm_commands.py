"""``sheet2video worker`` and ``sheet2video farm status`` (added to the CLI in sheet2video/cli/__init__.py)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from sheet2video.cli.common import echo_err, handle_errors
from sheet2video.cli.farm_options import farm_options, storage_options

__all__ = ["worker", "farm", "status"]


@click.command()
@farm_options
@storage_options
@click.option("--concurrency", "-c", type=click.IntRange(1, 64), default=1, show_default=True, help="Videos this worker renders at once.")
@click.option("--threads", type=click.IntRange(1, 64), help="x264 threads per render (default: FFmpeg decides).")
@click.option("--cache", type=click.Path(path_type=Path, file_okay=False), default=".sheet2video-worker", show_default=True,
              help="Local folder for fetched inputs and renders in progress.")
@click.option("--name", metavar="NAME@HOST", help="Worker name shown by 'farm status' (default: sheet2video-PID@HOSTNAME).")
@handle_errors
def worker(farm, farm_results, visibility_timeout, storage_bucket, storage_endpoint, storage_region, concurrency, threads, cache, name):
    """Render for a 'sheet2video serve --farm' engine: take render tasks from the broker, fetch their
    inputs from the bucket, render with the engine's own FFmpeg code, upload the video (create-only).

    \b
    Examples (the engine's broker and bucket; RabbitMQ: --farm amqp://USER:PASS@HOST//):
      sheet2video worker --farm redis://127.0.0.1:6390/0 --storage-endpoint http://127.0.0.1:9100 --storage-bucket renders --cache demo/worker
      SHEET2VIDEO_FARM=redis://127.0.0.1:6390/0 sheet2video worker --storage-endpoint http://127.0.0.1:9100 --storage-bucket renders --cache demo/worker-2 --concurrency 2
    """
    from sheet2video.engine.farm.app import QUEUE, redact
    from sheet2video.engine.farm.setup import open_bucket, open_farm
    from sheet2video.engine.farm.worker import RenderWorker, default_name, register
    from sheet2video.errors import ConfigError

    if not farm:
        raise ConfigError("give the broker: --farm redis://HOST:PORT/N (or amqp://…), or set SHEET2VIDEO_FARM")
    config, app = open_farm(farm, farm_results, visibility_timeout)
    store = open_bucket(storage_bucket, storage_endpoint, storage_region)
    name = name or default_name()
    cache = cache.resolve()

    def make_worker() -> RenderWorker:  # in each pool process: its own boto3 client
        from sheet2video.engine.farm.setup import open_bucket as reopen

        return RenderWorker(reopen(storage_bucket, storage_endpoint, storage_region), cache, name, threads=threads)

    starter = RenderWorker(store, cache, name)  # holds this worker's cache lock until the process ends
    removed = starter.clean_start()
    register(app, make_worker)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    echo_err(f"worker {name}: broker {redact(config.broker)}, bucket {storage_bucket}, cache {cache}, "
              f"concurrency {concurrency}" + (f"; removed {removed} stale render folder(s)" if removed else ""))
    app.worker_main(argv=["worker", "-Q", QUEUE, "-c", str(concurrency), "-P", "prefork", "-n", name,
                          "-l", "INFO", "-E", "--without-mingle", "--without-gossip"])
    os._exit(0)  # noqa: the pool is gone; do not wait for boto3's threads


@click.group()
def farm():
    """Look at a render farm (see also Flower: celery --broker URL flower).

    \b
    Example:
      sheet2video farm status --farm redis://127.0.0.1:6390/0
    """


@farm.command()
@farm_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def status(farm, farm_results, visibility_timeout, as_json):
    """Show the farm's workers, queue depth, running tasks and failures.

    \b
    Examples:
      sheet2video farm status --farm redis://127.0.0.1:6390/0
      sheet2video farm status --farm redis://127.0.0.1:6390/0 --json
    """
    import json

    from sheet2video.engine.farm.setup import open_farm
    from sheet2video.engine.farm.status import farm_status, print_status
    from sheet2video.errors import ConfigError

    if not farm:
        raise ConfigError("give the broker: --farm redis://HOST:PORT/N (or amqp://…), or set SHEET2VIDEO_FARM")
    config, app = open_farm(farm, farm_results, visibility_timeout)
    report = farm_status(app, config)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        print_status(report)
