"""``run --preview``: a fast look before the real run.

Each job becomes a draft of itself: one video (Count 1), its short side 360 px (aspect kept,
even sizes; a smaller output is left as it is), rendered by the embedded engine into
``<sheet stem>-preview/`` next to the sheet with its own engine folder and its own ledger. A
draft never counts as done in the sheet's ledger and is never written into the sheet, and its
ClientToken differs from the real job's (another content), so the real run submits every row.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from sheet2video.plan.campaign import PlannedJob, canonical_json, client_token

__all__ = ["PRESET", "SHORT_SIDE", "preview_folder", "preview_job", "preview_size"]

SHORT_SIDE = 360
PRESET = "ultrafast"  # a draft: speed over file size


def preview_size(width: int, height: int) -> tuple[int, int]:
    """Scale so the short side is 360 px (never up), both sides even."""
    short = min(width, height)
    if short <= SHORT_SIDE:
        return width, height
    scale = SHORT_SIDE / short

    def even(value: float) -> int:
        return max(2, int(round(value / 2)) * 2)

    return even(width * scale), even(height * scale)


def _scale_pixels(style: Any, factor: float) -> None:
    """Pixel sizes and positions of a text style or sticker, scaled like the picture (values of
    at most 1 are fractions of the picture, IMS's other way to say X, Y, Width, Height)."""
    if not isinstance(style, dict):
        return
    for name in ("FontSize", "Outline", "X", "Y", "Width", "Height"):
        value = style.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (name in ("FontSize", "Outline") or value > 1):
            style[name] = max(1, int(round(value * factor)))


def preview_job(job: PlannedJob, identity: str) -> PlannedJob:
    params = {k: v for k, v in job.params.items() if k != "ClientToken"}
    output = json.loads(params["OutputConfig"])
    width, height = int(output.get("Width") or 1080), int(output.get("Height") or 1920)
    output["Count"] = 1
    output["Width"], output["Height"] = preview_size(width, height)
    params["OutputConfig"] = canonical_json(output)
    factor = output["Width"] / width
    if factor != 1:  # titles, captions and logos in pixels shrink with the picture
        editing = json.loads(params.get("EditingConfig") or "{}")
        _scale_pixels(editing.get("TitleConfig"), factor)
        _scale_pixels((editing.get("SpeechConfig") or {}).get("AsrConfig"), factor)
        for style in (editing.get("SubHeadingConfig") or {}).values():
            _scale_pixels(style, factor)
        if editing:
            params["EditingConfig"] = canonical_json(editing)
        inputs = json.loads(params["InputConfig"])
        for sticker in inputs.get("StickerArray") or []:
            _scale_pixels(sticker, factor)
        params["InputConfig"] = canonical_json(inputs)
    content_hash = hashlib.sha256(canonical_json({"preview": params}).encode()).hexdigest()
    token = client_token(identity, job.key, content_hash)
    return dataclasses.replace(job, params={"ClientToken": token, **params}, content_hash=content_hash)


def preview_folder(sheet_path: Path) -> Path:
    """Where the drafts go: ``<sheet stem>-preview/`` next to the sheet."""
    return sheet_path.resolve().parent / f"{sheet_path.stem}-preview"
