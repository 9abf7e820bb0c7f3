"""A real browser for tests: Debian's ``chromium`` headless, driven over the DevTools protocol.

The browser is the system package (scripts/ensure-test-tools installs it); nothing downloads one.
``Browser`` starts it on a loopback debugging port of its own choosing, talks to one page over
a WebSocket (``websocket-client``) and is stopped (killed, its profile removed) on ``close``.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests
import websocket


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed: run scripts/ensure-test-tools (apt-get install chromium)"
    return found


class Browser:
    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 60):
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.proc = subprocess.Popen(
            [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio",
             "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage", "--hide-scrollbars",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self._id = 0
        try:
            port = self._port(timeout)
            self._drain = threading.Thread(target=self.proc.stderr.read, daemon=True)  # a full pipe would stall it
            self._drain.start()
            page = self._until(lambda: next((t for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
                                             if t.get("type") == "page"), None), timeout, "a page target")
            self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True)
            self.send("Page.enable")
            self.send("Runtime.enable")
        except BaseException:
            self.close()
            raise

    def _port(self, timeout: float) -> int:
        """Chromium prints 'DevTools listening on ws://127.0.0.1:PORT/…' once it listens."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            match = re.search(r"DevTools listening on ws://[\d.]+:(\d+)/", line)
            if match:
                return int(match.group(1))
            if not line and self.proc.poll() is not None:
                break
        raise AssertionError("chromium did not start its DevTools server")

    @staticmethod
    def _until(probe, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = probe()
            except requests.RequestException:
                value = None
            if value:
                return value
            time.sleep(0.05)  # between polls of a condition, not instead of one
        raise AssertionError(f"timed out waiting for {what}")

    def send(self, method: str, **params):
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:  # events arrive in between; the answer carries our id
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30, what: str | None = None):
        """Poll a JavaScript condition until it is truthy (its value is returned)."""
        return self._until(lambda: self.evaluate(expression), timeout, what or expression)

    def open(self, url: str, timeout: float = 30) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for(f"document.readyState === 'complete' && location.href === {json.dumps(url)}", timeout, f"{url} to load")

    def screenshot(self, path: Path, *, full_page: bool = True, timeout: float = 30) -> Path:
        """A PNG of the page once it is still (two captures in a row alike: a video's loading
        spinner has faded out); ``full_page``: all of it, not only the window. Scrollbars are
        hidden (a launch flag), so capturing beyond the window does not change the layout measured."""
        params = {"format": "png"}
        if full_page:
            width, height = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        last = {"png": None}

        def still():
            png = self.send("Page.captureScreenshot", **params)["data"]
            same, last["png"] = png == last["png"], png
            return same

        self._until(still, timeout, "the page to stop moving")
        path.write_bytes(base64.b64decode(last["png"]))
        return path

    def as_phone(self) -> int:
        """Show the page as a 390 px phone would, once its cards stack in one column; the page's
        width (a test asserts nothing is wider than the screen)."""
        self.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=1, mobile=True)
        self.wait_for("new Set(Array.from(document.querySelectorAll('.card')).map(c => c.getBoundingClientRect().x)).size === 1",
                      what="a one-column layout")
        return self.evaluate("document.documentElement.scrollWidth")

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if getattr(self, "_drain", None) is not None:
            self._drain.join(timeout=10)
        self.proc.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)
