"""``--callback-url``: receive IMS completion callbacks and wake the poller early."""

from __future__ import annotations

import json
import threading
from typing import Any, Callable
from urllib.parse import urlsplit

from sheet2video.errors import ConfigError

__all__ = ["CallbackReceiver", "with_notify"]


class CallbackReceiver:
    """Receives BatchProduceMediaComplete callbacks on --callback-url and wakes the poller.

    The job itself is then read with Get, so a forged callback can at most cause an early poll;
    with an auth key, callbacks whose X-ICE-SIGNATURE does not verify are refused anyway."""

    def __init__(self, url: str, auth_key: str | None, wake: threading.Event, on_event: Callable[[dict], None] = lambda e: None):
        from werkzeug.serving import make_server
        from werkzeug.wrappers import Request, Response

        from sheet2video.cloud.callback_auth import verify_callback

        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ConfigError(f"--callback-url must be an http:// URL this machine listens on, got {url!r}")
        self.received: list[dict[str, Any]] = []

        def app(environ, start_response):
            request = Request(environ)
            if request.method != "POST" or (auth_key and not verify_callback(url, request.headers, auth_key)):
                return Response("forbidden", status=403)(environ, start_response)
            try:
                event = json.loads(request.get_data(as_text=True) or "{}")
            except json.JSONDecodeError:
                return Response("bad json", status=400)(environ, start_response)
            self.received.append(event)
            on_event(event)
            wake.set()
            return Response("ok")(environ, start_response)

        try:
            self._server = make_server(parts.hostname, parts.port or 80, app, threaded=True)
        except OSError as error:
            raise ConfigError(f"cannot listen for callbacks on {parts.hostname}:{parts.port}: {error.strerror}") from None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="callbacks")
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def with_notify(user_data: str | None, url: str) -> str:
    data = json.loads(user_data) if user_data else {}
    data["NotifyAddress"] = url
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
