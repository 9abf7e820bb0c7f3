"""Statuses and IMS error codes in words a person reviewing a campaign understands.

The raw code stays on the card, small, for whoever fixes it; the sentence says what went wrong
and, where it is the row's fault, what to change.
"""

from __future__ import annotations

import re

__all__ = ["BADGES", "kind_of", "explain", "next_step", "split_error", "WORKING_WORDS"]

# what a card's badge says, by the kind of status (also the filter's names)
BADGES = {"ready": "Ready", "failed": "Failed", "working": "In progress", "skipped": "Skipped"}

_WORKING = {"Submitting", "Init", "Queuing", "Processing", "Running", "NotSubmitted"}

# longest prefix wins: InvalidParameter.Font before InvalidParameter
_CODES = {
    "InvalidMaterial.NotFound": "A photo or clip this row names could not be found. Check the file name or link.",
    "InvalidMaterial.Type": "A file in this row is the wrong kind (for example a sound file where a picture or clip belongs).",
    "InvalidMaterial.Corrupt": "A file in this row is damaged and could not be read. Export it again and replace it.",
    "InvalidMaterial.Forbidden": "A file in this row is outside the folders the renderer may read.",
    "InvalidMaterial.TooLarge": "A file in this row is too large (too many bytes to download, or a picture of too many pixels).",
    "InvalidMaterial.Changed": "A file in this row changed while its video was being made. Run the row again.",
    "InvalidMaterial": "A photo, clip or sound in this row could not be used.",
    "InvalidParameter.Font": "The title font asked for is not available.",
    "InvalidParameter.FontSize": "The text size asked for is not possible.",
    "InvalidParameter.FontColor": "A text colour in this row is not a colour the renderer knows.",
    "InvalidParameter.BackgroundColor": "A background colour in this row is not a colour the renderer knows.",
    "InvalidParameter.Duration": "The video would be far too long. Check the durations in this row.",
    "InvalidParameter.TimeRangeList": "A clip's start or end time is past the end of that clip.",
    "InvalidParameter.MediaSearchInput": "Media search works only in the cloud, not on this machine.",
    "InvalidParameter": "A setting in this row is not valid.",
    "MissingParameter": "Something this row needs is missing.",
    "RenderFailed": "The video could not be put together (a technical problem on the render machine). Try again.",
    "InternalError": "The render service had a problem. Try again later.",
    "ServiceUnavailable": "The render service was not available. Try again later.",
    "Throttling": "The render service was busy. Try again in a while.",
    "Forbidden": "The account is not allowed to do this. Ask whoever manages the cloud account.",
    "InvalidAccessKeyId": "The account's access key was refused. Ask whoever manages the cloud account.",
    "SignatureDoesNotMatch": "The account's secret was refused. Ask whoever manages the cloud account.",
}
_CODE = re.compile(r"^(?:\d+ of \d+ video\(s\) failed — )?([A-Za-z][\w.]*): ?(.*)$", re.S)


def kind_of(status: str) -> str:
    """ready / failed / working, for a job status (Finished…) or a video's status (Success…)."""
    if status in ("Success", "Finished"):
        return "ready"
    if status in _WORKING:
        return "working"
    return "failed"


def explain(code: str | None) -> str:
    """One plain sentence for an IMS error code (the longest known prefix), or a general one."""
    code = code or ""
    best = max((known for known in _CODES if code == known or code.startswith(known + ".")), key=len, default=None)
    return _CODES[best] if best else "The video could not be made."


def next_step(code: str | None, rows: list[int]) -> str:
    """What to do about a failure: fix the row (its material or a setting), or just try again."""
    again = "rerun with --retry-failed"
    if (code or "").startswith(("InvalidMaterial", "InvalidParameter", "MissingParameter")):
        where = ("row " if len(rows) == 1 else "rows ") + ", ".join(map(str, rows))
        return f"Next: fix {where} in the sheet, then {again}."
    return f"Next: {again}."


def split_error(text: str) -> tuple[str, str]:
    """A ledger error (``Code: message``, ``n of m video(s) failed — Code: message``) → (code, message)."""
    match = _CODE.match(text.strip())
    return (match.group(1), match.group(2).strip()) if match else ("", text.strip())


WORKING_WORDS = {
    "Submitting": "Being sent to the render service.",
    "Init": "Waiting its turn at the render service.",
    "Queuing": "Waiting its turn at the render service.",
    "Processing": "Being made right now.",
}
