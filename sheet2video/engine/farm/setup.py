"""Building the farm's pieces from command-line options, with the checks made before starting:
an unreachable broker or bucket is one line and exit 2 (ConfigError), never a traceback."""

from __future__ import annotations

from pathlib import Path

from sheet2video.engine.farm.app import FarmConfig, check_broker, make_app, redact
from sheet2video.errors import ConfigError, StorageError

__all__ = ["open_bucket", "open_farm", "executor_factory"]


def open_bucket(bucket: str | None, endpoint: str | None, region: str | None):
    from sheet2video.cloud.storage import ObjectStore

    if not bucket:
        raise ConfigError("the farm needs a bucket both the engine and the workers reach: give --storage-bucket")
    store = ObjectStore(bucket, endpoint_url=endpoint, region=region)
    try:
        store.check_bucket()
    except StorageError as error:  # unreachable at start is a configuration problem: exit 2
        raise ConfigError(str(error)) from None
    return store


def open_farm(broker: str, results: str | None, visibility_timeout: int | None):
    config = FarmConfig(broker, results)
    if visibility_timeout:
        config.visibility_timeout = visibility_timeout
        config.restore_interval = max(1, min(10, visibility_timeout // 5))
    app = make_app(config)
    check_broker(app, config)
    return config, app


def executor_factory(broker, results, visibility_timeout, bucket, endpoint, region):
    """For ``serve --farm``: check everything now, build the CeleryExecutor once the outputs folder is known."""
    from sheet2video.engine.farm.executor import CeleryExecutor

    config, app = open_farm(broker, results, visibility_timeout)
    store = open_bucket(bucket, endpoint, region)
    return (lambda outputs: CeleryExecutor(app, store, Path(outputs), broker_url=config.broker)), redact(config.broker)
