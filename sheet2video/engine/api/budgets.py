"""What one job may cost a shared engine: video (Count × duration × pixels) and speech characters.

Video is counted in seconds at 1080×1920: an output of W×H pixels lasting S seconds counts
S × W × H / (1080 × 1920), so a 4K output counts about four times its length and a 180×320
draft a thirtieth. Speech is counted in characters of the distinct lines a job synthesises (a
line spoken by two voices counts twice).

Both are checked twice. At Submit, with what the parameters say (Count, Width×Height,
FixedDuration — or MaxDuration when no voice-over sets the length — and the scripts the outputs
are sure to speak): over budget → 400 InvalidParameter. Once planned, with the real durations and
the speech actually synthesised: over budget → the job fails (``InvalidParameter.JobBudget``)
before anything renders; speech is metered line by line, so synthesis stops at the line that
passes the budget.

The defaults stay within what the cloud accepts (reference/ims-api.md §6): Count ≤ 100, scripts
≤ 50 × ≤ 1000 characters; the upper bound of MaxDuration is undocumented (UIs clamp to 300 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sheet2video.errors import RenderError

if TYPE_CHECKING:  # the serve command reads the defaults below without loading the planner
    from sheet2video.engine.timeline.task import RenderTask

__all__ = [
    "DEFAULT_JOB_VIDEO_SECONDS", "DEFAULT_JOB_SPEECH_CHARS", "BUDGET_CODE", "VIDEO_OPTION", "SPEECH_OPTION",
    "JobBudget", "SpeechMeter",
]  # fmt: skip

FULL_HD = 1080 * 1920
DEFAULT_JOB_VIDEO_SECONDS = 6000.0  # Count 100 × 60 s at 1080×1920 (a campaign of 20 × 60 s uses a fifth)
DEFAULT_JOB_SPEECH_CHARS = 50_000   # one SpeechTextArray at the cloud's maximum: 50 scripts × 1000 characters
BUDGET_CODE = "InvalidParameter.JobBudget"
VIDEO_OPTION = "sheet2video serve --max-job-video-seconds"
SPEECH_OPTION = "sheet2video serve --max-job-speech-chars"


@dataclass(frozen=True)
class JobBudget:
    """Per-job limits; None: no limit."""

    video_seconds: float | None = DEFAULT_JOB_VIDEO_SECONDS
    speech_chars: int | None = DEFAULT_JOB_SPEECH_CHARS

    def submit_problem(self, params: dict[str, Any]) -> str | None:
        """Why a job with these (parsed, checked) parameters is over budget before planning, or None."""
        from sheet2video.engine.timeline.extras import DEFAULT_HEIGHT, DEFAULT_WIDTH

        output = params.get("OutputConfig") or {}
        inputs = params.get("InputConfig") or {}
        count = int(output.get("Count") or 1)
        width, height = int(output.get("Width") or DEFAULT_WIDTH), int(output.get("Height") or DEFAULT_HEIGHT)
        lists = _speech_lists(inputs)
        seconds = output.get("FixedDuration") or (None if any(lists) else output.get("MaxDuration"))
        if self.video_seconds is not None and seconds:
            total = count * float(seconds) * width * height / FULL_HD
            if total > self.video_seconds:
                asked = "FixedDuration" if output.get("FixedDuration") else "MaxDuration"
                return (f"the job asks for {count} output(s) × {float(seconds):g} s ({asked}) at {width}x{height}: "
                        f"{total:.0f} s of video counted at 1080x1920, over the engine's per-job budget of "
                        f"{self.video_seconds:g} s ({VIDEO_OPTION}); lower Count, {asked} or the size")
        if self.speech_chars is not None:
            chars = sum(_least_spoken(texts, count) for texts in lists)
            if chars > self.speech_chars:
                return (f"the job's outputs speak at least {chars} characters of script, over the engine's per-job "
                        f"speech budget of {self.speech_chars} characters ({SPEECH_OPTION}); lower Count or "
                        "shorten the scripts")
        return None

    def check_planned(self, tasks: list[RenderTask]) -> None:
        """Refuse a planned job whose outputs, as planned, pass the video budget."""
        if self.video_seconds is None or not tasks:
            return
        total = sum(t.duration * t.width * t.height for t in tasks) / FULL_HD
        if total > self.video_seconds:
            seconds = sum(t.duration for t in tasks)
            raise RenderError(
                f"the planned outputs come to {total:.0f} s of video counted at 1080x1920 ({len(tasks)} output(s), "
                f"{seconds:.0f} s in all at {tasks[0].width}x{tasks[0].height}), over the engine's per-job budget of "
                f"{self.video_seconds:g} s ({VIDEO_OPTION}); nothing was rendered",
                code=BUDGET_CODE,
            )

    def speech_meter(self) -> SpeechMeter:
        return SpeechMeter(self.speech_chars)


class SpeechMeter:
    """One job's speech so far: each distinct line is charged once, before it is synthesised."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.used = 0
        self._seen: set[tuple] = set()

    def charge(self, text: str, *how: Any) -> None:
        line = (text, *how)
        if line in self._seen:
            return
        self._seen.add(line)
        self.used += len(text)
        if self.limit is not None and self.used > self.limit:
            raise RenderError(
                f"the job's speech passes {self.limit} characters (the distinct lines its outputs speak, each voice "
                f"counted), the engine's per-job speech budget ({SPEECH_OPTION}); nothing was rendered",
                code=BUDGET_CODE,
            )


def _speech_lists(inputs: dict[str, Any]) -> list[list]:
    """The script lists the planner speaks from: the global one, else each group's (grouped mode)."""
    if inputs.get("SpeechTextArray"):
        return [inputs["SpeechTextArray"]]
    return [g.get("SpeechTextArray") or [] for g in inputs.get("MediaGroupArray") or [] if isinstance(g, dict)]


def _least_spoken(texts: list, count: int) -> int:
    """Characters ``count`` outputs are sure to speak from one list: the planner uses every script
    once before repeating any (timeline.draws.spread), so at least ``count`` minus the duplicates
    are distinct — the shortest ones, at worst."""
    distinct = sorted({t for t in texts if isinstance(t, str)}, key=len)
    sure = max(0, min(len(distinct), count - (len(texts) - len(distinct))))
    return sum(len(t) for t in distinct[:sure])
