"""Facts computed from a file (its shots, a music file's beats), computed once per version of it.

Analysing a clip costs an FFmpeg pass over every frame; planning asks about the same files again
and again (every row of a campaign, every restart). So a result is kept under the file's identity
(device, inode, size, mtime in ns: any swap or rewrite changes it) — in memory (bounded, least
recently used goes first) and, with a folder, as one small JSON file per (kind, identity) under
``folder/<kind>/``, written to a temp name and renamed, so a restarted engine or a new CLI run
reads it back instead of analysing again. A cache file that cannot be read, or that names another
identity, is ignored and replaced. The caller takes the identity (before the probe, as the planner
does), so this module needs nothing from the timeline.

A result a later run may well get right (a pass stopped at its time limit on a busy machine) is
marked ``{"transient": true}`` by its ``compute``: it is kept in memory for this process, never
written to disk.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Sequence

from sheet2video.engine.media.probe import MediaInfo

__all__ = ["FactCache", "TRANSIENT"]

TRANSIENT = "transient"  # a result dict with this key true is not written to disk


class FactCache:
    """Results of analysing a file, computed once per version of it (device, inode, size, mtime)."""

    def __init__(self, kind: str, compute: Callable[[str, MediaInfo], Any], folder: Path | None = None,
                 size: int = 4096):
        if not kind or not all(c.isalnum() or c in "-_." for c in kind) or kind.startswith("."):
            raise ValueError(f"a fact kind names a folder: {kind!r}")
        self.kind = kind
        self._compute = compute
        self._folder = Path(folder) / kind if folder is not None else None
        self._size = max(1, int(size))
        self._memory: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._busy: dict[tuple, threading.Lock] = {}  # one computation per identity at a time

    def get(self, path: str, info: MediaInfo, identity: Sequence[int] | None) -> Any:
        """The facts of ``path`` as it was when ``identity`` was taken (shared: do not change
        them); None identity (a missing file): computed, not kept."""
        if identity is None:
            return self._compute(path, info)
        key = tuple(int(n) for n in identity)
        found = self._remembered(key)
        if found is not None:
            return found[0]
        with self._lock:
            busy = self._busy.setdefault(key, threading.Lock())
        try:
            with busy:  # a second caller for the same file waits for the first one's result
                found = self._remembered(key) or self._read(key)
                if found is None:
                    found = (self._compute(path, info),)
                    self._write(key, found[0])
                self._remember(key, found[0])
        finally:
            with self._lock:
                self._busy.pop(key, None)
        return found[0]

    def _remembered(self, key: tuple) -> tuple[Any] | None:
        with self._lock:
            if key not in self._memory:
                return None
            self._memory.move_to_end(key)
            return (self._memory[key],)

    def _remember(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._memory[key] = value
            self._memory.move_to_end(key)
            while len(self._memory) > self._size:
                self._memory.popitem(last=False)

    def _file(self, key: tuple) -> Path | None:
        return self._folder / ("-".join(str(n) for n in key) + ".json") if self._folder is not None else None

    def _read(self, key: tuple) -> tuple[Any] | None:
        file = self._file(key)
        if file is None:
            return None
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            if data["kind"] != self.kind or tuple(data["identity"]) != key:
                return None
            return (data["facts"],)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, half-written by a crash, or not ours: compute again and replace it

    def _write(self, key: tuple, value: Any) -> None:
        file = self._file(key)
        if file is None or (isinstance(value, dict) and value.get(TRANSIENT)):
            return
        try:
            text = json.dumps({"kind": self.kind, "identity": list(key), "facts": value})
            file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".facts-", suffix=".tmp", dir=file.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, file)
            except BaseException:
                _unlink(tmp)
                raise
        except (OSError, TypeError, ValueError):
            pass  # an unwritable folder (or a result JSON cannot hold): memory still has it


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
