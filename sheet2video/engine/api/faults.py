"""Fault injection for the engine's API — for reliability tests, off unless asked for.

``sheet2video serve --faults SPEC`` (or ``EngineConfig(faults=SPEC)``) makes the engine misbehave
the way a real service and network do, at seeded random rates, so a test can check that a run
still ends with every row done once. SPEC is ``name=value`` pairs separated by commas::

    seed=7,error=0.1,throttle=0.1,drop=0.05,slow=0.05,delay=1.5,crash=0.05,reject=0.02

``seed``      random seed (default 0): the same seed and the same requests give the same faults
``error``     rate of HTTP 500 ``InternalError`` / 503 ``ServiceUnavailable`` answers (nothing done)
``throttle``  rate of HTTP 400 ``Throttling.User`` answers (nothing done)
``reject``    rate of Submits refused with HTTP 400 ``InvalidParameter.Injected`` — a permanent error,
              so decided per ClientToken: every retry of a refused Submit is refused again
``drop``      rate of requests that are handled and then answered with a closed connection
``slow``      rate of requests answered after ``delay`` seconds (default 1)
``crash``     rate of Submits after which the process exits at once (``os._exit(70)``, no cleanup,
              like kill -9): the job is stored, the answer never sent
``only``      actions the faults apply to, joined with ``+`` (default: every action)
``pattern``   ``random`` (default): each rate is a chance per request. ``fixed``: each rate is an
              interval instead — with n = round(1/rate), the 1st, (n+1)th, (2n+1)th… request that
              reaches a fault's check gets it, counted from the engine's start, so every life of the
              engine meets each fault at once and a campaign of known size a known number of them;
              a crash comes with every n-th new job (not the first, or no job would ever be answered).
              ``reject`` stays decided per ClientToken (a retry gets the same answer, even from a
              restarted engine, which has forgotten its counts)

Each injected fault is logged as a warning ``fault injected: <kind> on <action>``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from werkzeug.wrappers import Response

from sheet2video.engine.api.http import SOCKET_KEY
from sheet2video.errors import ConfigError

__all__ = ["SUBMIT", "RATES", "CRASH_EXIT_CODE", "Faults"]

log = logging.getLogger("sheet2video.engine")

SUBMIT = "SubmitBatchMediaProducingJob"
RATES = ("error", "throttle", "reject", "drop", "slow", "crash")
CRASH_EXIT_CODE = 70


@dataclass
class Faults:
    seed: int = 0
    error: float = 0.0
    throttle: float = 0.0
    reject: float = 0.0
    drop: float = 0.0
    slow: float = 0.0
    crash: float = 0.0
    delay: float = 1.0
    only: frozenset[str] = frozenset()
    pattern: str = "random"
    counts: Counter = field(default_factory=Counter, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._reached: Counter = Counter()  # pattern=fixed: requests that reached each fault's check

    @classmethod
    def parse(cls, spec: str) -> Faults:
        values: dict = {}
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            name, sep, value = part.partition("=")
            name = name.strip().lower()
            try:
                if not sep:
                    raise ValueError
                if name == "seed":
                    values[name] = int(value)
                elif name == "only":
                    values[name] = frozenset(a.strip() for a in value.split("+") if a.strip())
                elif name == "pattern":
                    if value.strip() not in ("random", "fixed"):
                        raise ValueError
                    values[name] = value.strip()
                elif name in RATES or name == "delay":
                    number = float(value)
                    if not (0 <= number <= (60 if name == "delay" else 1)):
                        raise ValueError
                    values[name] = number
                else:
                    raise KeyError
            except KeyError:
                raise ConfigError(f"--faults: unknown fault {name!r} (known: seed, {', '.join(RATES)}, delay, only, "
                                  "pattern)") from None
            except ValueError:
                raise ConfigError(f"--faults: bad value in {part!r} (rates are 0-1, delay 0-60 s, seed an integer, "
                                  "pattern random or fixed)") from None
        return cls(**values)

    # ------------------------------------------------------------ decisions

    def _roll(self, kind: str, action: str) -> bool:
        rate = getattr(self, kind)
        if not rate or (self.only and action not in self.only):
            return False
        with self._lock:
            if self.pattern == "fixed":
                self._reached[kind] += 1
                every = max(1, round(1 / rate))
                hit = self._reached[kind] % every == (0 if kind == "crash" else 1 % every)
            else:
                hit = self._rng.random() < rate
            if hit:
                self.counts[kind] += 1
        if hit:
            log.warning("fault injected: %s on %s", kind, action or "-")
        return hit

    def _rejected(self, environ) -> bool:
        token = parse_qs(environ.get("QUERY_STRING", "")).get("ClientToken", [""])[0]
        if not token or not self.reject or (self.only and SUBMIT not in self.only):
            return self._roll("reject", SUBMIT)
        if random.Random(f"{self.seed}:{token}").random() >= self.reject:
            return False
        with self._lock:
            self.counts["reject"] += 1
        log.warning("fault injected: reject on %s", SUBMIT)
        return True

    def after_submit(self) -> None:
        """Called once a Submit has stored a new job, before the answer goes out."""
        if self._roll("crash", SUBMIT):
            sys.stderr.flush()
            os._exit(CRASH_EXIT_CODE)

    # ------------------------------------------------------------ the WSGI wrapper

    def wrap(self, app):
        def faulty(environ, start_response):
            action = environ.get("HTTP_X_ACS_ACTION", "")
            if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/":
                return app(environ, start_response)  # /outputs/ and /health stay reliable
            if self._roll("error", action):
                with self._lock:
                    code, status = self._rng.choice([("InternalError", 500), ("ServiceUnavailable", 503)])
                return _answer(code, "The request processing has failed due to some unknown error (injected).",
                               status)(environ, start_response)
            if self._roll("throttle", action):
                return _answer("Throttling.User", "Request was denied due to user flow control (injected).",
                               400)(environ, start_response)
            if action == SUBMIT and self._rejected(environ):
                return _answer("InvalidParameter.Injected", "A permanent error injected for testing.",
                               400)(environ, start_response)
            if self._roll("slow", action):
                time.sleep(self.delay)
            if self._roll("drop", action):
                for _ in app(environ, lambda *args, **kwargs: (lambda data: None)):
                    pass  # the request is handled; its answer is lost
                sock = environ.get(SOCKET_KEY)  # the connection's socket (engine/api/http.py)
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                raise ConnectionResetError("fault injection: connection dropped")
            return app(environ, start_response)

        return faulty


def _answer(code: str, message: str, status: int) -> Response:
    body = {"RequestId": str(uuid.uuid4()).upper(), "HostId": "sheet2video-engine", "Code": code, "Message": message}
    return Response(json.dumps(body), status=status, content_type="application/json;charset=utf-8")
