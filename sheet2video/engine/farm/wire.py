"""What travels to a worker: a RenderTask dict whose input files are object-storage keys.

The task id and the output key are derived from that content (and the sub-job's output name), so
the same render sent twice — by an engine restarted mid-job, or redelivered by the broker — is
recognised as the same task and lands on the same key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from sheet2video import __version__
from sheet2video.engine.timeline.task import RenderTask

__all__ = ["SCHEMA", "MAX_ATTEMPTS", "map_inputs", "input_files", "time_limit", "build", "schema_problem"]

# Bump when the task's shape or meaning changes: a worker of another schema refuses the task.
# 2: ``inputs`` carries the demuxer each input is read with (a worker that ignored it would let
# FFmpeg guess, playlists included).
SCHEMA = 2
MAX_ATTEMPTS = 3  # deliveries whose worker died before answering; then the sub-job fails


def map_inputs(task: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """A copy of ``task`` with every input file (shots, speech, stickers, music, background) changed,
    each once. ``inputs`` follows with its demuxers; identities stay behind (a copy is another file)."""
    out = json.loads(json.dumps(task))
    memo: dict[str, str] = {}

    def once(path: str) -> str:
        if path not in memo:
            memo[path] = change(path)
        return memo[path]

    if out.get("inputs"):
        out["inputs"] = {once(p): {"format": (e or {}).get("format")} for p, e in out["inputs"].items()}
    for group in ("shots", "speech", "stickers"):
        for item in out.get(group) or []:
            item["path"] = once(item["path"])
    if out.get("music"):
        out["music"]["path"] = once(out["music"]["path"])
    if out.get("background_image"):
        out["background_image"] = once(out["background_image"])
    return out


def input_files(task: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    map_inputs(task, lambda p: seen.append(p) or p)
    return list(dict.fromkeys(seen))


def time_limit(task: dict[str, Any]) -> int:
    """Seconds a render may take before it is stopped: generous for a 2-core worker at 1080x1920."""
    pixels = max(1.0, task["width"] * task["height"] / (1080 * 1920))
    return int(120 + 20 * float(task["duration"]) * pixels)


def build(task: dict[str, Any], output_name: str, key_of: Callable[[str], str]) -> dict[str, Any]:
    """The message for one render. ``output_name`` is the sub-job's output path (relative to the
    engine's outputs folder); ``key_of`` uploads an input file and returns its key. An input that
    changed since its probe is not sent (the same check as a local render's)."""
    RenderTask.from_dict(task).check_unchanged()
    keyed = map_inputs(task, key_of)
    basename = output_name.rsplit("/", 1)[-1]
    keyed["output"] = basename
    digest = hashlib.sha256(json.dumps({"schema": SCHEMA, "name": output_name, "task": keyed},
                                       sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:40]
    stem = basename.rsplit(".", 1)[0]
    return {
        "schema": SCHEMA,
        "sender": __version__,
        "id": f"s2v-{digest}",
        "output_key": f"renders/{digest}/{basename}",
        "poster_key": f"renders/{digest}/{stem}.jpg",
        "limit": time_limit(task),
        "task": keyed,
    }


def schema_problem(message: Any) -> str | None:
    """Why this worker cannot take ``message``, or None."""
    schema = message.get("schema") if isinstance(message, dict) else None
    if schema == SCHEMA:
        return None
    sender = message.get("sender", "?") if isinstance(message, dict) else "?"
    return (f"this worker (sheet2video {__version__}, task schema {SCHEMA}) cannot render a task of schema "
            f"{schema} sent by sheet2video {sender}: run the same version on the engine and its workers")
