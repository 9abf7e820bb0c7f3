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
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from sheet2video.engine.speech.loudness import DEFAULT_TARGET, levelled, measure
from sheet2video.engine.compose.captions import enabled as captions_enabled, plan_events
from sheet2video.engine.media.sources import MediaResolver
from sheet2video.engine.media.probe import MediaInfo, probe
from sheet2video.engine.timeline.styling import choose_fit_and_motion, choose_transitions
from sheet2video.engine.render import Music, RenderTask, Shot, SpeechClip, Sticker, TextOverlay
from sheet2video.engine.speech.synthesis import SpeechSynthesizer
from sheet2video.engine.speech.voices import pick_voice
from sheet2video.errors import RenderError

DEFAULT_SHOT = 3.0            # SingleShotDuration when none is given
DEFAULT_GROUP_DURATION = 5.0  # a grouped-mode group without speech (reference §2.3)
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1080, 1920
DEFAULT_CRF = 27
FPS = 25
MAX_AUTOSPEED = 2.0           # AutoSpeed never plays the video faster or slower than this
MAX_OUTPUT_SECONDS = 3600     # one output may last at most this long (a typo must not mean a day-long render)
SPEECH_TAIL = 1.0             # seconds of picture and music after the last word, so nothing ends abruptly
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s*")


@dataclass
class Candidate:
    """One possible shot: a slice of a source."""

    path: str
    info: MediaInfo
    start: float
    length: float  # seconds available from start (images: unbounded)

    def shot(self, duration: float, volume: float, speed: float = 1.0) -> Shot:
        if self.info.kind == "image":
            return Shot(self.path, "image", 0.0, duration, duration, 0.0, False)
        source = min(duration * speed, self.length)
        return Shot(self.path, "video", round(self.start, 3), round(source, 3), round(duration, 3), volume, self.info.has_audio)


class JobPlanner:
    def __init__(self, resolver: MediaResolver, speech: SpeechSynthesizer, probe_fn: Callable[[str], MediaInfo] = probe):
        self.resolver = resolver
        self.speech = speech
        self._probe = probe_fn
        self._infos: dict[str, MediaInfo] = {}

    # ------------------------------------------------------------ helpers

    def media(self, reference: str) -> tuple[str, MediaInfo]:
        path = str(self.resolver.resolve(reference))
        if path not in self._infos:
            self._infos[path] = self._probe(path)
        info = self._infos[path]
        if info.kind == "audio":
            raise RenderError(f"{reference} is audio, not a video or image", code="InvalidMaterial.Type")
        if info.kind == "video" and getattr(info, "frames", None) == 1:
            # One picture (a one-frame GIF with a long delay): a still, held for the shot's length.
            info = self._infos[path] = dataclasses.replace(info, kind="image", duration=0.0)
        return path, info

    def _warnings(self, task: RenderTask) -> list[str]:
        """The probe's notes (e.g. a truncated file) about the files this output uses."""
        paths = [s.path for s in task.shots] + [s.path for s in task.stickers]
        paths += [task.background_image] if task.background_image else []
        paths += [task.music.path] if task.music else []
        out = []
        for path in dict.fromkeys(paths):
            for note in getattr(self._infos.get(path), "warnings", None) or ():
                out.append(note if os.path.basename(path) in note else f"{os.path.basename(path)}: {note}")
        return out

    def audio(self, reference: str) -> str:
        path = str(self.resolver.resolve(reference))
        if path not in self._infos:
            self._infos[path] = self._probe(path)
        if not self._infos[path].has_audio:
            raise RenderError(f"{reference} has no audio track", code="InvalidMaterial.Type")
        return path

    def candidates(self, references: list[str], shot: float, ranges: dict[str, list[tuple[float, float]]] | None = None,
                   group: str | None = None) -> list[Candidate]:
        """Shots of ``shot`` seconds cut from each video (only inside its ``TimeRangeList`` when
        ``ranges`` has one for it), and every image as one candidate."""
        out = []
        for reference in references:
            path, info = self.media(reference)
            if info.kind == "image":
                out.append(Candidate(path, info, 0.0, math.inf))
                continue
            spans = (ranges or {}).get((group, reference)) or (ranges or {}).get((None, reference))
            length = info.duration  # the video stream's own length, not a longer sound track's
            for start, end in spans or [(0.0, length)]:
                if spans and start >= length - 0.04:
                    raise RenderError(f"{reference}: TimeRangeList In {start:g} s is at or past the end of the clip "
                                      f"({length:.2f} s)", code="InvalidParameter.TimeRangeList")
                end = min(end, length)
                pieces = max(1, int((end - start) // shot))
                for i in range(pieces):
                    at = start + i * shot
                    out.append(Candidate(path, info, at, max(0.04, end - at)))
        return out

    # ------------------------------------------------------------ the plan

    def plan(self, params: dict[str, Any], output_paths: list[str]) -> list[RenderTask]:
        inputs = params.get("InputConfig") or {}
        editing = params.get("EditingConfig") or {}
        output = params.get("OutputConfig") or {}
        rng = random.Random(seed_of(params))
        count = len(output_paths)
        process = editing.get("ProcessConfig") or {}
        ctx = _Context(
            shot=float(process.get("SingleShotDuration") or DEFAULT_SHOT),
            image=float(process.get("ImageDuration") or process.get("SingleShotDuration") or DEFAULT_SHOT),
            media_volume=float((editing.get("MediaConfig") or {}).get("Volume", 0) or 0),
            speech_volume=_level(editing.get("SpeechConfig"), 1.0),
            voice=(editing.get("SpeechConfig") or {}).get("Voice"),
            rate=(editing.get("SpeechConfig") or {}).get("SpeechRate"),
            align=process.get("AlignmentMode") or "AutoSpeed",
            max_duration=output.get("MaxDuration"),
            fixed_duration=output.get("FixedDuration"),
            language=(editing.get("SpeechConfig") or {}).get("SpeechLanguage"),
            ranges=_time_ranges(editing),
        )
        if inputs.get("MediaGroupArray"):
            groups = inputs["MediaGroupArray"]
            grouped = not inputs.get("SpeechTextArray") and any(
                g.get("SpeechTextArray") or g.get("Duration") is not None for g in groups
            )
            timelines = (self._grouped if grouped else self._global)(groups, inputs, ctx, rng, count)
        elif inputs.get("MediaArray"):
            timelines = self._image_text(inputs, ctx, rng, count)
        elif inputs.get("MediaSearchInput"):
            raise RenderError("MediaSearchInput needs the cloud's media search library; the local engine cannot search",
                              code="InvalidParameter.MediaSearchInput")
        else:
            raise RenderError("InputConfig has no MediaGroupArray or MediaArray", code="InvalidParameter")
        longest = max((t.duration for t in timelines), default=0)
        if longest > MAX_OUTPUT_SECONDS:
            raise RenderError(f"an output would last {longest:g} s, longer than the engine's limit of {MAX_OUTPUT_SECONDS} s;"
                              " check SingleShotDuration, ImageDuration, Duration, FixedDuration and MaxDuration",
                              code="InvalidParameter.Duration")

        titles = _spread(inputs.get("TitleArray") or [], count, rng)
        subheads = [(int(s.get("Level", 1)), _spread(s.get("TitleArray") or [], count, rng)) for s in inputs.get("SubHeadingArray") or []]
        music = _spread(inputs.get("BackgroundMusicArray") or [], count, rng)
        backgrounds = _spread(inputs.get("BackgroundImageArray") or [], count, rng)
        stickers = _spread(inputs.get("StickerArray") or [], count, rng)
        width = int(output.get("Width") or DEFAULT_WIDTH)
        height = int(output.get("Height") or DEFAULT_HEIGHT)
        crf = int((output.get("Video") or {}).get("Crf", DEFAULT_CRF))
        title_style = editing.get("TitleConfig") or {}
        sub_styles = editing.get("SubHeadingConfig") or {}
        music_volume = _level(editing.get("BackgroundMusicConfig"), 0.3)
        loudness = _loudness_target(editing)
        # Voice-over captions: drawn unless AsrConfig says "Enable": false (compose.captions).
        asr = (editing.get("SpeechConfig") or {}).get("AsrConfig")
        asr = asr if isinstance(asr, dict) else {}
        caption_style = {k: v for k, v in asr.items() if k != "Enable"}

        tasks = []
        for i, (timeline, path) in enumerate(zip(timelines, output_paths)):
            overlays = []
            if titles:
                overlays.append(TextOverlay(titles[i], 0, dict(title_style)))
            for level, texts in subheads:
                if texts:
                    overlays.append(TextOverlay(texts[i], level, dict(sub_styles.get(str(level)) or {})))
            task = RenderTask(
                output=path,
                width=width,
                height=height,
                duration=timeline.duration,
                shots=timeline.shots,
                fps=FPS,
                crf=crf,
                titles=overlays,
                speech=timeline.speech,
                music=Music(self.audio(music[i]), music_volume, True) if music and music_volume > 0 else None,
                stickers=[self._sticker(stickers[i], width, height)] if stickers else [],
                background_image=self.media(backgrounds[i])[0] if backgrounds else None,
                loudness=loudness,
                captions=plan_events(timeline.voiced, caption_style, width, height, timeline.duration)
                if captions_enabled(asr) else [],
                caption_style=caption_style,
            )
            if loudness is not None:
                self._measure_levels(task)
            choose_transitions(task.shots, process, random.Random(f"transition:{seed_of(params)}:{i}"))
            self._describe(task)
            choose_fit_and_motion(task, editing, random.Random(f"look:{seed_of(params)}:{i}"))
            task.warnings = self._warnings(task)
            task.used = self._used(titles[i] if titles else None, timeline, ctx)
            tasks.append(task)
        return tasks

    # ------------------------------------------------------------ modes

    def _global(self, groups, inputs, ctx: _Context, rng: random.Random, count: int) -> list[_Timeline]:
        pools = [self.candidates(g["MediaArray"], ctx.shot, ctx.ranges, g.get("GroupName")) for g in groups]
        volumes = [float(g["Volume"]) if g.get("Volume") is not None else ctx.media_volume for g in groups]
        combos = _distinct_combinations([len(p) for p in pools], count, rng)
        scripts = _spread(inputs.get("SpeechTextArray") or [], count, rng)
        timelines = []
        for i, combo in enumerate(combos):
            picks = [(pools[g][c], volumes[g], self._length(pools[g][c], ctx)) for g, c in enumerate(combo)]
            speech: list[SpeechClip] = []
            said: list = []  # (speech, timeline offset, script) for captions
            voice = None
            if scripts:
                # The video lasts as long as the voice-over (reference §2.3), plus a short tail,
                # and at least one shot; MaxDuration never cuts a word (preflight warns instead).
                voice = pick_voice(ctx.voice, rng)
                spoken = self.speech.synthesize(scripts[i], voice, ctx.rate, ctx.language)
                target = max(spoken.duration + SPEECH_TAIL, ctx.shot)
                speech = [SpeechClip(spoken.path, 0.0, spoken.duration, ctx.speech_volume)]
                said = [(spoken, 0.0, scripts[i])]
            else:
                target = float(ctx.fixed_duration) if ctx.fixed_duration else sum(p[2] for p in picks)
                if ctx.max_duration:
                    target = min(target, float(ctx.max_duration))
            # too short for the voice-over or the fixed length: extra shots from the middle groups
            middle = list(range(1, len(pools) - 1)) or list(range(len(pools)))
            guard = 0
            while sum(p[2] for p in picks) < target - 0.05 and guard < 200:
                g = rng.choice(middle)
                at = len(picks) - 1 if len(picks) > 1 else len(picks)
                cand = _fresh(pools[g], [p[0] for p in picks[max(0, at - 1): at + 1]], rng)
                picks.insert(at, (cand, volumes[g], self._length(cand, ctx)))
                guard += 1
            shots = _fit(picks, target, scale=bool(scripts) and ctx.align == "AutoSpeed")
            timelines.append(_Timeline(shots, round(target, 3), speech, said, voice))
        return timelines

    def _grouped(self, groups, inputs, ctx: _Context, rng: random.Random, count: int) -> list[_Timeline]:
        pools = [self.candidates(g["MediaArray"], ctx.shot, ctx.ranges, g.get("GroupName")) for g in groups]
        volumes = [float(g["Volume"]) if g.get("Volume") is not None else ctx.media_volume for g in groups]
        voiced = [g.get("SpeechTextArray") or [] for g in groups]
        sizes = {len(s) for s in voiced if s}
        aligned = len(sizes) == 1  # every voiced group has N scripts: the n-th go together
        aligned_pick = _spread(list(range(next(iter(sizes)))), count, rng) if aligned else []
        per_group = [_spread(s, count, rng) if s else [] for s in voiced]
        combos = _distinct_combinations([len(p) for p in pools], count, rng)
        timelines = []
        for i, combo in enumerate(combos):
            shots: list[Shot] = []
            speech: list[SpeechClip] = []
            said: list = []  # (speech, timeline offset, script) for captions
            clock = 0.0
            voice = pick_voice(ctx.voice, random.Random(f"{i}/{combo}"))  # one voice per output
            for g, group in enumerate(groups):
                if voiced[g]:
                    text = voiced[g][aligned_pick[i]] if aligned else per_group[g][i]
                    spoken = self.speech.synthesize(text, voice, ctx.rate, ctx.language)
                    length = spoken.duration
                    speech.append(SpeechClip(spoken.path, round(clock, 3), spoken.duration, ctx.speech_volume))
                    said.append((spoken, round(clock, 3), text))
                else:
                    length = float(group.get("Duration") or DEFAULT_GROUP_DURATION)
                first = pools[g][combo[g]]
                picks = [(first, volumes[g], self._length(first, ctx))]
                others = [c for c in pools[g] if c is not first]
                rng.shuffle(others)
                while sum(p[2] for p in picks) < length - 0.05 and others:
                    cand = others.pop()
                    picks.append((cand, volumes[g], self._length(cand, ctx)))
                shots += _fit(picks, length, scale=False)
                clock += length
            if speech:  # a tail after the last word, held on the last shot
                spoken_end = max(c.start + c.duration for c in speech)
                if clock < spoken_end + SPEECH_TAIL and shots:
                    shots[-1].duration = round(shots[-1].duration + spoken_end + SPEECH_TAIL - clock, 3)
                    clock = spoken_end + SPEECH_TAIL
            if ctx.max_duration and clock > float(ctx.max_duration):
                # MaxDuration drops silent groups at the end, never a word (preflight warns).
                keep = max([float(ctx.max_duration)] + [c.start + c.duration + SPEECH_TAIL for c in speech])
                if keep < clock:
                    clock = keep
                    shots = _trim(shots, clock)
            timelines.append(_Timeline(shots, round(clock, 3), speech, said, voice))
        return timelines

    def _image_text(self, inputs, ctx: _Context, rng: random.Random, count: int) -> list[_Timeline]:
        """Approximation of image-text matching: media assigned to speech sentences in order."""
        pool = self.candidates(inputs["MediaArray"], ctx.shot, ctx.ranges)
        scripts = _spread(inputs.get("SpeechTextArray") or [], count, rng)
        timelines = []
        for i in range(count):
            order = pool[:]
            rng.shuffle(order)
            voice = None
            if scripts:
                voice = pick_voice(ctx.voice, rng)
                spoken = self.speech.synthesize(scripts[i], voice, ctx.rate, ctx.language)
                sentences = [s for s in _SENTENCE.split(scripts[i]) if s.strip()] or [scripts[i]]
                total_chars = sum(len(s) for s in sentences)
                lengths = [spoken.duration * len(s) / total_chars for s in sentences]
                speech = [SpeechClip(spoken.path, 0.0, spoken.duration, ctx.speech_volume)]
                said = [(spoken, 0.0, scripts[i])]
                target = max(spoken.duration + SPEECH_TAIL, ctx.shot)
                lengths[-1] += target - spoken.duration
            else:
                lengths = [ctx.shot] * len(order)
                speech, said = [], []
                target = float(ctx.fixed_duration or min(sum(lengths), float(ctx.max_duration or sum(lengths))))
            shots = []
            for n, length in enumerate(lengths):
                cand = order[n % len(order)]
                shots += _fit([(cand, ctx.media_volume, self._length(cand, ctx))], length, scale=False)
            timelines.append(_Timeline(_trim(shots, target), round(target, 3), speech, said, voice))
        return timelines

    # ------------------------------------------------------------ pieces

    def _measure_levels(self, task: RenderTask) -> None:
        """Each voice-over clip's and the music's loudness, measured once (cached), so the
        composition can set fixed gains instead of normalising every output in two passes."""
        for clip in task.speech:
            clip.path, level = levelled(clip.path, task.loudness)
            clip.loudness = level.integrated if level else None
        if task.music is not None:
            level = measure(task.music.path)
            task.music.loudness = level.integrated if level else None

    def _used(self, title: str | None, timeline: _Timeline, ctx: _Context) -> dict[str, str]:
        """What a reviewer hears and reads in this output: the title, the scripts spoken and the
        voice that spoke them (a cloud name with the local voice it maps to)."""
        used = {"Title": title} if title else {}
        scripts = [script for _, _, script in timeline.voiced]
        if scripts:
            used["Speech"] = "\n".join(scripts)
            route = getattr(self.speech, "route", None)  # the default synthesizer knows which voice speaks
            spoken_by = route(scripts[0], timeline.voice, ctx.language)[1] if route else None
            asked = timeline.voice
            used["Voice"] = (f"{asked} → {spoken_by}" if asked and spoken_by and asked != spoken_by
                             else asked or spoken_by or "default")
        return used

    def _length(self, candidate: Candidate, ctx: _Context) -> float:
        return ctx.image if candidate.info.kind == "image" else min(ctx.shot, candidate.length)

    def _describe(self, task: RenderTask) -> None:
        """What the composition needs to know of each shot's source: its shown size (fit picks
        cover for a near aspect), pixel aspect, interlacing and HEIF grid."""
        for shot in task.shots:
            info = self._infos.get(shot.path)
            if info is not None:
                shot.width, shot.height = info.width, info.height
                shot.sar, shot.interlaced, shot.grid = info.sar, info.interlaced, info.grid

    def _sticker(self, sticker: dict[str, Any], width: int, height: int) -> Sticker:
        reference = sticker.get("MediaId") or sticker.get("MediaURL")
        path, info = self.media(reference)

        def size(value, whole, default):
            if value is None:
                return default
            value = float(value)
            return int(round(value * whole)) if value < 1 else int(round(value))

        w = size(sticker.get("Width"), width, max(2, width // 6))
        h = size(sticker.get("Height"), height, max(2, round(w * info.height / max(1, info.width))))
        x = size(sticker.get("X"), width, width - w - width // 20)
        y = size(sticker.get("Y"), height, height // 20)
        return Sticker(path, x, y, max(2, w), max(2, h), float(sticker.get("Opacity", 1)))


@dataclass
class _Context:
    shot: float
    image: float
    media_volume: float
    speech_volume: float
    voice: str | None
    rate: float | None
    align: str
    max_duration: float | None
    fixed_duration: float | None
    language: str | None
    ranges: dict[tuple[str | None, str], list[tuple[float, float]]]


@dataclass
class _Timeline:
    shots: list[Shot]
    duration: float
    speech: list[SpeechClip]
    voiced: list = field(default_factory=list)  # (speech, timeline offset, script): caption timings
    voice: str | None = None  # the Voice asked for this output (one out of a comma list)


def _level(config: dict[str, Any] | None, default: float) -> float:
    """A voice or music level: ``Volume`` (default ``default``) times ``Gain`` (the linear gain of
    the cloud's Volume effect: 0 mutes, 1 keeps, 2 doubles; default 1)."""
    config = config or {}
    volume = config.get("Volume")
    gain = config.get("Gain")
    return float(default if volume is None else volume) * float(1 if gain is None else gain)


def _time_ranges(editing: dict[str, Any]) -> dict[tuple[str | None, str], list[tuple[float, float]]]:
    """``MediaConfig.MediaMetaDataArray[].TimeRangeList``: the parts of a clip that may be used,
    keyed by (GroupName or None, Media)."""
    out: dict[tuple[str | None, str], list[tuple[float, float]]] = {}
    for meta in (editing.get("MediaConfig") or {}).get("MediaMetaDataArray") or []:
        spans = [(float(r.get("In") or 0), float(r["Out"]) if r.get("Out") is not None else math.inf)
                 for r in meta.get("TimeRangeList") or []]
        if meta.get("Media") and spans:
            out[(meta.get("GroupName"), meta["Media"])] = spans
    return out


def _loudness_target(editing: dict[str, Any]) -> float | None:
    """``EditingConfig.LoudnessConfig`` (a local-engine extension): ``{"Target": -16}`` LUFS by
    default, ``{"Enable": false}`` to leave the volumes as given."""
    config = editing.get("LoudnessConfig") or {}
    if config.get("Enable") is False:
        return None
    return float(config.get("Target", DEFAULT_TARGET))


def seed_of(params: dict[str, Any]) -> int:
    """The job's random seed: its material and outputs, not where the videos go (renaming outputs
    changes nothing) nor how they are styled (a new caption colour, transition or volume keeps the
    same shots, titles and scripts, so a reviewer sees only the change asked for)."""
    output = {k: v for k, v in (params.get("OutputConfig") or {}).items() if k != "MediaURL"}
    text = json.dumps([params.get("InputConfig"), output], sort_keys=True, ensure_ascii=False)
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def _spread(items: list, count: int, rng: random.Random) -> list:
    """``count`` picks that use every item before repeating any (titles, scripts, music…)."""
    if not items:
        return []
    out: list = []
    while len(out) < count:
        batch = list(items)
        rng.shuffle(batch)
        out += batch
    return out[:count]


def _distinct_combinations(sizes: list[int], count: int, rng: random.Random) -> list[tuple[int, ...]]:
    """``count`` choices of one index per pool, all different while the pools allow it."""
    total = math.prod(sizes)
    if total <= 4096:
        every = list(itertools.product(*(range(n) for n in sizes)))
        rng.shuffle(every)
        return [every[i % total] for i in range(count)]
    seen: set[tuple[int, ...]] = set()
    out = []
    while len(out) < count:
        combo = tuple(rng.randrange(n) for n in sizes)
        if combo not in seen:
            seen.add(combo)
            out.append(combo)
    return out


def _fresh(pool: list[Candidate], neighbours: list[Candidate], rng: random.Random) -> Candidate:
    """A candidate from ``pool`` for a slot between ``neighbours`` (left, right): another clip
    than both where the pool has one, else than the one before it, else another part of a clip,
    else any — the same clip twice in a row only when it cannot be helped."""
    near = {n.path for n in neighbours}
    left = neighbours[0].path if neighbours else None
    for ok in (lambda c: c.path not in near, lambda c: c.path != left, lambda c: all(c is not n for n in neighbours),
               lambda c: True):
        choices = [c for c in pool if ok(c)]
        if choices:
            return rng.choice(choices)
    raise ValueError("empty pool")


def _fit(picks: list[tuple[Candidate, float, float]], target: float, *, scale: bool) -> list[Shot]:
    """Shots filling exactly ``target`` seconds: scaled (AutoSpeed) or cut at the end."""
    natural = sum(p[2] for p in picks)
    if scale and natural > 0:
        factor = target / natural
        speed = 1 / factor
        if 1 / MAX_AUTOSPEED <= speed <= MAX_AUTOSPEED:
            return [c.shot(length * factor, vol, speed) for c, vol, length in picks]
        # beyond a watchable speed: every shot keeps its share of the time at normal speed
        return _trim([c.shot(length * factor, vol) for c, vol, length in picks], target)
    shots = [c.shot(length, vol) for c, vol, length in picks]
    total = sum(s.duration for s in shots)
    if total < target and shots:  # not enough material: hold the last shot longer
        last = shots[-1]
        last.duration = round(last.duration + target - total, 3)
    return _trim(shots, target)


def _trim(shots: list[Shot], target: float) -> list[Shot]:
    out, clock = [], 0.0
    for shot in shots:
        if clock >= target - 1e-3:
            break
        if clock + shot.duration > target:
            keep = round(target - clock, 3)
            ratio = keep / shot.duration
            shot = Shot(shot.path, shot.kind, shot.start, round(shot.source_duration * ratio, 3), keep, shot.volume, shot.has_audio)
        out.append(shot)
        clock += shot.duration
    return out

