"""A batch job's configuration → one RenderTask per output (which media, texts, durations).

Semantics follow reference/ims-api.md §2.3–§2.8:

* Script mode, global voice-over: per output, one shot per media group in group order; long
  videos are split into shots of ``SingleShotDuration``; the output lasts as long as the chosen
  script's speech (extra shots from the middle groups while the video is shorter), then
  ``AlignmentMode`` AutoSpeed scales the video track to the speech, Cut truncates it. Without
  speech: ``FixedDuration``, else ``SingleShotDuration × groups`` capped by ``MaxDuration``.
* Script mode, grouped voice-over: each group lasts its speech (or ``Duration``, default 5 s) and
  is filled with that group's shots; if every voiced group has the same number of scripts the
  N-th scripts go together, otherwise one is drawn per group.
* Image-text mode (``MediaArray``) is an approximation, documented as such: the script is split
  into sentences, media are assigned to sentences in order, each held for its share of the speech.

``Count`` outputs differ from each other (distinct shot combinations while there are enough) and
every random choice comes from a seed derived from the job's parameters, so the same job renders
the same twice.

The stages, one module each in this package: ``settings`` (what the job's parameters say, its
seed) → ``timelines`` (shots and voice-over per output, cut from ``material`` with the seeded
``draws``, timed by ``timing``) → ``extras`` (titles, music, sticker, background, levels) →
``styling`` (fit, motion, transitions). This module runs them in that order: the order of the
random draws is part of the result.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable

from sheet2video.engine.compose.captions import enabled as captions_enabled, plan_events
from sheet2video.engine.media.probe import MediaInfo, probe
from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.speech.synthesis import SpeechSynthesizer
from sheet2video.engine.timeline.extras import FPS, Extras, OutputLook, draw_extras, measure_levels, overlays_for, read_look, sticker_for
from sheet2video.engine.timeline.material import MediaCatalog
from sheet2video.engine.timeline.settings import PlanSettings, read_settings, seed_of
from sheet2video.engine.timeline.styling import choose_fit_and_motion, choose_transitions
from sheet2video.engine.timeline.task import Music, RenderTask
from sheet2video.engine.timeline.on_beat import beats_on_timeline, snap_to_beats
from sheet2video.engine.timeline.timelines import Timeline, edit_list, plan_timelines, shots_of
from sheet2video.engine.timeline.timing import check_output_length

__all__ = ["JobPlanner"]


class JobPlanner:
    """Plans jobs; the probe results of the files it has seen are kept across jobs."""

    def __init__(self, resolver: MediaResolver, speech: SpeechSynthesizer, probe_fn: Callable[[str], MediaInfo] = probe,
                 facts: Path | None = None):
        """``facts``: a folder keeping the clips' scenes and the songs' beats across restarts."""
        self.resolver = resolver
        self.speech = speech
        self.catalog = MediaCatalog(resolver, probe_fn, facts)

    def plan(self, params: dict[str, Any], output_paths: list[str], *,
             speech: SpeechSynthesizer | None = None) -> list[RenderTask]:
        """One task per output path. ``speech``: this job's synthesizer, instead of the planner's
        own (the engine passes one that queues each line under the job's caller)."""
        speech = speech or self.speech
        inputs = params.get("InputConfig") or {}
        editing = params.get("EditingConfig") or {}
        output = params.get("OutputConfig") or {}
        seed = seed_of(params)
        rng = random.Random(seed)
        count = len(output_paths)
        settings = read_settings(editing, output)
        timelines = plan_timelines(inputs, self.catalog, speech, settings, rng, count)
        check_output_length([t.duration for t in timelines])
        extras = draw_extras(inputs, count, rng)
        look = read_look(editing, output)
        tasks = []
        for i, (timeline, path) in enumerate(zip(timelines, output_paths)):
            if extras.music and look.music_volume > 0:
                self._on_beat(timeline, extras.music[i])
            task = self._task(path, timeline, extras, look, i)
            self._finish(task, timeline, editing, seed, i)
            task.used = {**self._used(speech, extras.titles[i] if extras.titles else None, timeline, settings),
                         **task.used}
            tasks.append(task)
        return tasks

    def _on_beat(self, timeline: Timeline, music: str) -> None:
        """Cuts moved onto the beats of the output's music (engine/timeline/on_beat.py)."""
        song = self.catalog.audio(music)
        beats = beats_on_timeline(self.catalog.beats(song), self.catalog.duration(song), timeline.duration)
        snap_to_beats(timeline.cuts, beats)

    def _task(self, path: str, timeline: Timeline, extras: Extras, look: OutputLook, i: int) -> RenderTask:
        """Output ``i``: its timeline with the extras drawn for it (files probed in this order:
        music, sticker, background)."""
        music, stickers, backgrounds = extras.music, extras.stickers, extras.backgrounds
        return RenderTask(
            output=path,
            width=look.width,
            height=look.height,
            duration=timeline.duration,
            shots=shots_of(timeline.cuts),
            fps=FPS,
            crf=look.crf,
            titles=overlays_for(extras, look, i),
            speech=timeline.speech,
            music=Music(self.catalog.audio(music[i]), look.music_volume, True) if music and look.music_volume > 0 else None,
            stickers=[sticker_for(self.catalog, stickers[i], look.width, look.height)] if stickers else [],
            background_image=self.catalog.media(backgrounds[i])[0] if backgrounds else None,
            loudness=look.loudness,
            captions=plan_events(timeline.voiced, look.caption_style, look.width, look.height, timeline.duration)
            if captions_enabled(look.asr) else [],
            caption_style=look.caption_style,
        )

    def _finish(self, task: RenderTask, timeline: Timeline, editing: dict[str, Any], seed: int, i: int) -> None:
        """Levels, transitions, source details, fit and motion, warnings, the edit list. Transitions
        and looks draw from generators of their own, so restyling a job keeps its shots and texts."""
        if task.loudness is not None:
            measure_levels(task)
        process = editing.get("ProcessConfig") or {}
        choose_transitions(task.shots, process, random.Random(f"transition:{seed}:{i}"),
                           [c.spare for c in timeline.cuts])
        self.catalog.describe(task)
        choose_fit_and_motion(task, editing, random.Random(f"look:{seed}:{i}"))
        task.warnings = self.catalog.warnings(task) + timeline.warnings
        if process.get("EnableClipDetection") is not None and all(s.kind == "image" for s in task.shots):
            task.warnings.append("ProcessConfig.EnableClipDetection changes nothing here: the job has no video clips")
        task.used["Shots"] = edit_list(task.shots)

    def _used(self, speech: SpeechSynthesizer | None, title: str | None, timeline: Timeline,
              settings: PlanSettings) -> dict[str, str]:
        """What a reviewer hears and reads in this output: the title, the scripts spoken and the
        voice that spoke them (a cloud name with the local voice it maps to)."""
        used = {"Title": title} if title else {}
        scripts = [script for _, _, script in timeline.voiced]
        if scripts:
            used["Speech"] = "\n".join(scripts)
            route = getattr(speech, "route", None)  # the default synthesizer knows which voice speaks
            spoken_by = route(scripts[0], timeline.voice, settings.language)[1] if route else None
            asked = timeline.voice
            used["Voice"] = (f"{asked} → {spoken_by}" if asked and spoken_by and asked != spoken_by
                             else asked or spoken_by or "default")
        return used
