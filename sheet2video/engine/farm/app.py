"""The Celery app both sides build from the same broker URL, and the checks made before starting."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sheet2video.errors import ConfigError

__all__ = [
    "RENDER_TASK",
    "QUEUE",
    "DEFAULT_VISIBILITY_TIMEOUT",
    "redact",
    "FarmConfig",
    "make_app",
    "check_reachable",
    "check_broker",
    "queue_depth",
    "PRIORITY",
    "AGAIN_PRIORITY",
]

RENDER_TASK = "sheet2video.render"
QUEUE = "sheet2video"
# Redis serves priority 0 before 3 (kombu's priority steps 0/3/6/9): a task sent again because its
# worker died goes ahead of the queue instead of behind a whole campaign. (RabbitMQ ignores it
# without x-max-priority; it puts a redelivered task back at the head itself.)
PRIORITY, AGAIN_PRIORITY = 3, 0
# Redis redelivers a task whose worker vanished only after this many seconds; it must exceed the
# longest render, or a render still running is handed to a second worker (README: scale-out).
DEFAULT_VISIBILITY_TIMEOUT = 3600


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" if parts.username else f":***@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class FarmConfig:
    broker: str                          # redis://HOST:PORT/N or amqp://USER:PASS@HOST/VHOST
    results: str | None = None           # result backend; default: the broker when it is Redis
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    restore_interval: int = 10           # how often a Redis worker looks for tasks to redeliver

    def __post_init__(self) -> None:
        scheme = urlsplit(self.broker).scheme
        if scheme not in ("redis", "rediss", "amqp", "amqps", "pyamqp"):
            raise ConfigError(f"--farm {redact(self.broker)}: give a redis://HOST:PORT/N or amqp://HOST URL")
        if self.results is None:
            # Redis keeps results where the engine finds them again after a restart; with RabbitMQ
            # give --farm-results (e.g. a Redis URL): rpc:// results die with the engine's connection.
            self.results = self.broker if scheme.startswith("redis") else "rpc://"

    @property
    def is_redis(self) -> bool:
        return urlsplit(self.broker).scheme.startswith("redis")


def make_app(config: FarmConfig):
    from celery import Celery

    app = Celery("sheet2video", broker=config.broker, backend=config.results, set_as_current=False)
    transport = {"visibility_timeout": config.visibility_timeout}
    if config.is_redis:
        transport.update(unacked_restore_interval=config.restore_interval, unacked_restore_throttle=1)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUE,
        task_acks_late=True,               # a task is acknowledged when it is done, not when received
        task_reject_on_worker_lost=True,   # ... and handed out again when its worker process died
        worker_prefetch_multiplier=1,      # a worker holds no task it is not rendering
        task_track_started=True,           # STARTED (with the worker's name) tells the engine it is out
        task_send_sent_event=True,         # Flower and `farm status` see tasks queued, not only running
        worker_send_task_events=True,
        result_expires=7 * 24 * 3600,      # an engine down for days still finds its results
        result_extended=True,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a restarted broker: keep reconnecting
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        broker_channel_error_retry=True,
        # A render goes on while the broker restarts: its video goes to the bucket, not the broker; the
        # unacknowledged message comes back later and finds the output key taken.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        result_backend_always_retry=True,  # a result written while Redis restarts is written after
        result_backend_max_retries=60,
        # sending a task rides out a broker restart too (Celery's default gives up after ~0.6 s,
        # and the task, already recorded as SENT, would then fail instead of waiting)
        task_publish_retry_policy={"max_retries": 60, "interval_start": 0, "interval_step": 0.5, "interval_max": 2},
    )
    return app


def check_reachable(url: str, what: str, timeout: float = 3.0) -> None:
    """One clear line (ConfigError, exit 2) when nothing listens at ``url``'s host and port."""
    parts = urlsplit(url)
    if parts.scheme in ("rpc", ""):
        return
    default = {"redis": 6379, "rediss": 6380, "amqp": 5672, "amqps": 5671, "pyamqp": 5672}.get(parts.scheme, 80)
    host, port = parts.hostname or "localhost", parts.port or default
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        raise ConfigError(f"cannot reach the {what} at {redact(url)}: {error.strerror or error}") from None


def check_broker(app, config: FarmConfig, timeout: float = 5.0) -> None:
    """Connect (and log in) to the broker once; a wrong password is reported here, not on first use."""
    check_reachable(config.broker, "farm broker")
    if config.results != config.broker:
        check_reachable(config.results, "farm result backend")
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as error:  # kombu raises the transport's own errors: report them all the same way
        reason = str(error).replace(config.broker, redact(config.broker)) or type(error).__name__
        raise ConfigError(f"cannot connect to the farm broker at {redact(config.broker)}: {reason}") from None


def queue_depth(app) -> int:
    """Tasks waiting in the render queue (0 when the broker has not seen the queue yet)."""
    from kombu.exceptions import ChannelError
    from amqp.exceptions import NotFound

    with app.connection_for_read() as connection:
        try:
            return connection.default_channel.queue_declare(QUEUE, passive=True).message_count
        except (ChannelError, NotFound):
            return 0
