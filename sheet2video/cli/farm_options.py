"""The click options of the farm that ``serve``, ``worker`` and ``farm status`` share."""

from __future__ import annotations

import click

__all__ = ["storage_options", "farm_options"]


def storage_options(func):
    options = [
        click.option("--storage-bucket", metavar="NAME", envvar="SHEET2VIDEO_STORAGE_BUCKET",
                     help="Bucket the engine and the workers share (inputs and outputs) [env SHEET2VIDEO_STORAGE_BUCKET]."),
        click.option("--storage-endpoint", metavar="URL", envvar="SHEET2VIDEO_STORAGE_ENDPOINT",
                     help="S3-compatible endpoint (OSS, MinIO, Ceph …; default AWS S3). Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the Alibaba chain for OSS."),
        click.option("--storage-region", metavar="REGION", help="The bucket's region."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def farm_options(func):
    """The options ``serve`` and ``worker`` share to reach the farm's broker."""
    options = [
        click.option("--farm", "farm", metavar="URL", envvar="SHEET2VIDEO_FARM",
                     help="Render on Celery workers through this broker: redis://HOST:PORT/N or amqp://USER:PASS@HOST/VHOST [env SHEET2VIDEO_FARM]."),
        click.option("--farm-results", metavar="URL", help="Result backend (default: the broker when it is Redis; give a redis:// URL with RabbitMQ)."),
        click.option("--visibility-timeout", type=click.IntRange(5), metavar="SECONDS",
                     help="Redis only: a dead worker's task is handed out again after this long; must exceed the longest render (default 3600)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
