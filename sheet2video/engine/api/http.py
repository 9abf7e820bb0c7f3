"""The engine's HTTP server: waitress, so an idle or slow connection costs a socket, not a thread.

werkzeug's threaded server gave every connection its own thread for as long as the client kept it
open, with no timeout: 300 idle connections held 305 threads, and a client sending one header byte a
second held one forever. waitress reads requests on one I/O thread and hands only complete requests
to :data:`THREADS` workers. On top of its defaults:

* :data:`CONNECTION_LIMIT` connections at once (beyond it new ones wait in the listen backlog): an idle
  one costs ~3 KiB, so the cap is high — a low one would let a few hundred idle sockets lock everyone out;
* a connection idle for :data:`IDLE_SECONDS` is closed;
* a request not complete :data:`REQUEST_SECONDS` after its first byte is closed (a slowloris) —
  waitress itself only times out silence;
* bodies over ``max_body`` are refused by waitress before they are read (smaller ones reach the
  engine, which answers its own IMS-shaped 413 past ``MAX_BODY_BYTES``).

:class:`HttpServer` ``serve()`` runs the loop in the calling thread until ``stop()`` (from any thread)
or Ctrl+C; everything is closed by the loop's own thread.
"""

from __future__ import annotations

import logging
import resource
import threading
import time

from waitress import wasyncore
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import WSGITask

__all__ = ["THREADS", "CONNECTION_LIMIT", "IDLE_SECONDS", "REQUEST_SECONDS", "SOCKET_KEY", "HttpServer"]

THREADS = 16               # requests handled at once (a GetMediaInfo may wait on a download)
CONNECTION_LIMIT = 10000   # open connections (lowered to half the process's file limit when that is less)
IDLE_SECONDS = 30          # a keep-alive connection silent this long is closed
REQUEST_SECONDS = 60       # first byte to complete request (an 8 MiB body at 140 KB/s)
SOCKET_KEY = "sheet2video.socket"  # the connection's socket in the WSGI environ (fault injection's "drop")

logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is N" on every burst


class _Task(WSGITask):
    def get_environment(self):
        environ = super().get_environment()
        environ.setdefault(SOCKET_KEY, self.channel.socket)
        return environ

    def execute(self):
        try:
            super().execute()
        except ConnectionError:  # the app dropped the connection on purpose (faults.py "drop")
            raise ClientDisconnected from None


class _Channel(HTTPChannel):
    task_class = _Task
    request_started = 0.0

    def received(self, data):
        if data and self.request is None:
            self.request_started = time.monotonic()
        return super().received(data)


class _Server(TcpWSGIServer):
    channel_class = _Channel

    def maintenance(self, now):
        super().maintenance(now)  # closes connections idle past channel_timeout
        late = time.monotonic() - REQUEST_SECONDS
        for channel in list(self.active_channels.values()):
            if channel.request is not None and not channel.requests and channel.request_started < late:
                channel.will_close = True


def _connection_limit() -> int:
    """CONNECTION_LIMIT, the open-file limit raised toward twice that where the hard limit allows (an idle
    connection costs a few KiB); at most half the files the process may open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * CONNECTION_LIMIT
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    return CONNECTION_LIMIT if soft == resource.RLIM_INFINITY else max(32, min(CONNECTION_LIMIT, soft // 2))


class HttpServer:
    """A WSGI app served on ``host:port`` (port 0: any free port; ``.port`` is the one bound)."""

    def __init__(self, app, host: str, port: int, *, max_body: int):
        self._map: dict = {}  # waitress's socket map: the listener, its wake-up trigger, every connection
        self._server = _Server(app, map=self._map, host=host, port=port, threads=THREADS,
                               connection_limit=_connection_limit(), channel_timeout=IDLE_SECONDS, cleanup_interval=5,
                               max_request_body_size=max_body, asyncore_use_poll=True, ident="sheet2video-engine",
                               expose_tracebacks=False)
        self.port = int(self._server.effective_port)
        self._stopping = threading.Event()
        self._closed = threading.Event()
        self._running = False
        self._close_lock = threading.Lock()

    def serve(self) -> None:
        """Serve until :meth:`stop` (or Ctrl+C); then close every connection and the workers."""
        self._running = True
        try:
            while not self._stopping.is_set() and self._map:
                wasyncore.loop(timeout=1.0, use_poll=True, map=self._map, count=1)
        finally:
            self._close()

    def stop(self, wait: float = 10.0) -> None:
        """End :meth:`serve` from another thread and wait for it (or close at once if it never ran)."""
        self._stopping.set()
        if not self._running:
            self._close()
            return
        try:
            self._server.pull_trigger()  # wakes the loop's poll now rather than within a second
        except OSError:
            pass
        self._closed.wait(wait)

    def _close(self) -> None:
        with self._close_lock:
            if self._closed.is_set():
                return
            wasyncore.close_all(self._map)
            self._server.task_dispatcher.shutdown(timeout=2)
            self._closed.set()
