"""How each output looks, chosen once per output from EditingConfig (seeded by the planner):
the fit of other-aspect sources, motion on shots, and the transitions between them. The choices
are written onto the task as plain data; ``compose`` draws them."""

from __future__ import annotations

import math
import random
from typing import Any

from sheet2video.engine.timeline.task import RenderTask, Shot
from sheet2video.errors import RenderError

__all__ = ["choose_fit_and_motion", "choose_transitions"]

DEFAULT_TRANSITIONS = ("fade",)  # AllowTransition without a TransitionList
DEFAULT_TRANSITION_DURATION = 1.0  # seconds; the IMS Timeline's documented transition default


def choose_transitions(shots: list[Shot], process: dict[str, Any], rng: random.Random,
                       spare: list[float] | None = None) -> None:
    """ProcessConfig transitions: when ``AllowTransition`` is true (absent = hard cuts), each cut
    gets one name from ``TransitionList`` (the same one for the whole video with
    ``UseUniformTransition``, else drawn per cut) lasting ``TransitionDuration``, clamped to half
    of each of the two shots it joins, so a shot is never more than half blended, and to the
    next shot's ``spare`` source (its lead never plays into another scene). Two shots of the same
    source are joined by a hard cut: a blend of a clip with itself is a double exposure."""
    allow = process.get("AllowTransition")
    if isinstance(allow, str):
        allow = allow.strip().lower() in ("true", "1", "yes")
    if not allow or len(shots) < 2:
        return
    from sheet2video.engine.compose.transitions import CODE, check_transition

    names = [str(n) for n in process.get("TransitionList") or DEFAULT_TRANSITIONS]
    for n in names:
        if check_transition(n):
            raise RenderError(f"ProcessConfig.TransitionList: {check_transition(n)}", code=CODE)
    duration = float(process.get("TransitionDuration") or DEFAULT_TRANSITION_DURATION)
    uniform = rng.choice(names) if process.get("UseUniformTransition") else None
    spare = spare or [math.inf] * len(shots)
    for k, (prev, nxt) in enumerate(zip(shots, shots[1:])):
        name = uniform or rng.choice(names)  # drawn for every cut, so the draws do not depend on the shots
        length = round(max(0.0, min(duration, prev.duration / 2, nxt.duration / 2, spare[k + 1])), 3)
        if prev.path == nxt.path or length < 0.1:
            continue
        prev.transition, prev.transition_duration = name, length


def choose_fit_and_motion(task: RenderTask, editing: dict[str, Any], rng: random.Random) -> None:
    """Fit (``BackgroundImageConfig``) and motion (``ProcessConfig`` Vfx*) for one output.

    Fit: ``SubType`` Blur / Color / Image (IMS) or Cover / Contain (engine); without one the
    cloud's behaviour: letterboxed over the background image if there is one, else black
    bars. Motion when ``AllowVfxEffect``: with effect lists, each shot gets one with
    ``VfxEffectProbability`` % (default 100; the first shot from the first-clip list);
    without lists, photos drift gently and clips stay still."""
    from sheet2video.engine.compose.fit import FIT_MODES
    from sheet2video.engine.compose.motion import STILL_DEFAULTS

    background = editing.get("BackgroundImageConfig") or {}
    sub = str(background.get("SubType") or "").strip().lower()
    task.fit = sub if sub in FIT_MODES else ("image" if task.background_image else "contain")
    task.background_color = background.get("Color") or None
    if background.get("Radius") is not None:
        task.blur_radius = float(background["Radius"])
    process = editing.get("ProcessConfig") or {}
    if not process.get("AllowVfxEffect"):
        return
    first = [str(n).strip().lower() for n in process.get("VfxFirstClipEffectList") or []]
    rest = [str(n).strip().lower() for n in process.get("VfxNotFirstClipEffectList") or []]
    chance = float(process.get("VfxEffectProbability", 100)) / 100
    previous = None
    for k, shot in enumerate(task.shots):
        if first or rest:
            pool = (first or rest) if k == 0 else (rest or first)
            shot.motion = rng.choice(pool) if rng.random() < chance else None
        elif shot.kind == "image":
            shot.motion = rng.choice([m for m in STILL_DEFAULTS if m != previous])
        previous = shot.motion
