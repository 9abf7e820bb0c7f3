"""One timeline per output: its shots, its voice-over clips and how long it lasts, in one of the
three modes the planner's docstring describes (script mode with a global or a grouped voice-over,
image-text mode). The editor (``editor``) chooses and fits the shots; all draws come from the
job's seeded generator, in a fixed order."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from sheet2video.engine.speech.synthesis import Speech, SpeechSynthesizer
from sheet2video.engine.speech.voices import pick_voice
from sheet2video.engine.timeline.draws import spread
from sheet2video.engine.timeline.editor import Editor, JobUsage
from sheet2video.engine.timeline.footage import Cut, Item, Reel
from sheet2video.engine.timeline.material import MediaCatalog
from sheet2video.engine.timeline.matching import match_media, media_words
from sheet2video.engine.timeline.settings import PlanSettings
from sheet2video.engine.timeline.task import Shot, SpeechClip
from sheet2video.engine.timeline.timing import DEFAULT_GROUP_DURATION, SPEECH_TAIL, check_output_length
from sheet2video.errors import RenderError

__all__ = ["Timeline", "plan_timelines", "shots_of", "edit_list"]

_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s*")


@dataclass
class Timeline:
    cuts: list[Cut]
    duration: float
    speech: list[SpeechClip]
    voiced: list = field(default_factory=list)  # (speech, timeline offset, script): caption timings
    voice: str | None = None  # the Voice asked for this output (one out of a comma list)
    warnings: list[str] = field(default_factory=list)


def plan_timelines(inputs: dict[str, Any], catalog: MediaCatalog, speech: SpeechSynthesizer, settings: PlanSettings,
                   rng: random.Random, count: int) -> list[Timeline]:
    """``count`` timelines for the job's InputConfig, in the mode its fields call for."""
    job = _JobTimelines(catalog, speech, settings, rng, count)
    if inputs.get("MediaGroupArray"):
        groups = inputs["MediaGroupArray"]
        grouped = not inputs.get("SpeechTextArray") and any(
            g.get("SpeechTextArray") or g.get("Duration") is not None for g in groups
        )
        return job.grouped_voice_over(groups) if grouped else job.global_voice_over(groups, inputs)
    if inputs.get("MediaArray"):
        return job.image_text(inputs)
    if inputs.get("MediaSearchInput"):
        raise RenderError("MediaSearchInput needs the cloud's media search library; the local engine cannot search",
                          code="InvalidParameter.MediaSearchInput")
    raise RenderError("InputConfig has no MediaGroupArray or MediaArray", code="InvalidParameter")


def shots_of(cuts: list[Cut]) -> list[Shot]:
    """The render task's shots for the editor's cuts."""
    shots = []
    for c in cuts:
        item = c.item
        kind = "image" if item.photo else "video"
        shots.append(Shot(item.path, kind, 0.0 if item.photo else round(c.start, 3),
                          round(c.duration if item.photo else c.source, 3), round(c.duration, 3),
                          0.0 if item.photo else item.volume, False if item.photo else item.info.has_audio,
                          hold=round(c.hold, 3), media=item.reference, group=item.group_name))
    return shots


def edit_list(shots: list[Shot]) -> list[dict[str, Any]]:
    """What a user is shown of an output's shots (GetEditingProject, the report): the source as
    the job named it, its in and out points, speed, and where it sits in the output."""
    out, at = [], 0.0
    for s in shots:
        played = max(1e-6, s.duration - s.hold)
        out.append({"Media": s.media, "Group": s.group, "Type": "Image" if s.kind == "image" else "Video",
                    "In": 0.0 if s.kind == "image" else s.start,
                    "Out": s.duration if s.kind == "image" else round(s.start + s.source_duration, 3),
                    "Speed": 1.0 if s.kind == "image" else round(s.source_duration / played, 3),
                    "TimelineIn": round(at, 3), "TimelineOut": round(at + s.duration, 3),
                    "Transition": s.transition if s.transition and s.transition_duration > 0 else None,
                    "TransitionDuration": s.transition_duration if s.transition else 0.0})
        at += s.duration
    return out


def _shortfall(editor: Editor, target: float, what: str) -> list[str]:
    """The plan's warning when the media cannot fill ``what`` even with reuse."""
    if editor.shortfall <= 0.1:
        return []
    return [f"the media cannot fill {what} ({target:.1f} s) without showing a shot twice in a row (about "
            f"{editor.shortfall:.1f} s short): add clips or photos"]


class _JobTimelines:
    """The timelines of one job: what every mode shares (material, voice, settings, seeded draws)."""

    def __init__(self, catalog: MediaCatalog, speech: SpeechSynthesizer, settings: PlanSettings,
                 rng: random.Random, count: int):
        self.catalog = catalog
        self.speech = speech
        self.settings = settings
        self.rng = rng
        self.count = count
        self.usage = JobUsage()

    def _pools(self, groups: list[dict[str, Any]]) -> list[list[Item]]:
        """Each group's media, with the volume of its clips' own sound."""
        s = self.settings
        pools = []
        for g, group in enumerate(groups):
            volume = float(group["Volume"]) if group.get("Volume") is not None else s.media_volume
            pools.append(self.catalog.items(group["MediaArray"], s.ranges, g, group.get("GroupName"), volume, s.detect))
        return pools

    def _editor(self, segments: int) -> Editor:
        s = self.settings
        return Editor(Reel(segments), self.usage, s.shot, s.image, s.transition)

    def _speak(self, text: str, voice: str | None) -> Speech:
        return self.speech.synthesize(text, voice, self.settings.rate, self.settings.language)

    def _open(self, editor: Editor, segment: int, item: Item) -> None:
        cut = editor.open(item, first=segment == 0 and not any(editor.reel.segments))
        if cut is not None:
            editor.reel.add(segment, len(editor.reel.segments[segment]), cut)

    # ------------------------------------------------------------ script mode, global voice-over

    def global_voice_over(self, groups: list[dict[str, Any]], inputs: dict[str, Any]) -> list[Timeline]:
        pools = self._pools(groups)
        scripts = spread(inputs.get("SpeechTextArray") or [], self.count, self.rng)
        seen: set = set()
        return [self._global_output(pools, seen, scripts, i) for i in range(self.count)]

    def _global_output(self, pools: list[list[Item]], seen: set, scripts: list[str], i: int) -> Timeline:
        """Output ``i``: one shot per group in group order, the last group's a full shot at the
        end, filled to its voice-over (``scripts[i]``; none when ``scripts`` is empty) or the
        fixed length."""
        s = self.settings
        editor = self._editor(len(pools))
        for g, item in enumerate(self.usage.choose(pools, seen, self.rng)):
            self._open(editor, g, item)
        if editor.reel.segments[-1]:
            editor.reel.segments[-1][-1].keep = True
        speech: list[SpeechClip] = []
        said: list = []  # (speech, timeline offset, script) for captions
        voice = None
        if scripts:
            # The video lasts as long as the voice-over (reference §2.3), plus a short tail,
            # and at least one shot; MaxDuration never cuts a word (preflight warns instead).
            voice = pick_voice(s.voice, self.rng)
            spoken = self._speak(scripts[i], voice)
            target = max(spoken.duration + SPEECH_TAIL, s.shot)
            speech = [SpeechClip(spoken.path, 0.0, spoken.duration, s.speech_volume)]
            said = [(spoken, 0.0, scripts[i])]
        else:
            target = float(s.fixed_duration) if s.fixed_duration else editor.reel.total()
            if s.max_duration:
                target = min(target, float(s.max_duration))
        check_output_length([target])
        n = len(pools)
        order = list(dict.fromkeys(list(range(1, n - 1)) + [n - 1, 0]))  # the middle groups fill first
        editor.fill(order, {g: pools[g] for g in range(n)}, target)
        editor.fit(editor.reel.cuts(), target, speed=bool(scripts) and s.align == "AutoSpeed")
        self.usage.record(editor.reel)
        warnings = _shortfall(editor, target, "the voice-over" if scripts else "FixedDuration")
        return Timeline(editor.reel.cuts(), round(target, 3), speech, said, voice, warnings)

    # ------------------------------------------------------------ script mode, grouped voice-over

    def grouped_voice_over(self, groups: list[dict[str, Any]]) -> list[Timeline]:
        pools = self._pools(groups)
        voiced = [g.get("SpeechTextArray") or [] for g in groups]
        sizes = {len(s) for s in voiced if s}
        aligned = len(sizes) == 1  # every voiced group has N scripts: the n-th go together
        aligned_pick = spread(list(range(next(iter(sizes)))), self.count, self.rng) if aligned else []
        per_group = [spread(s, self.count, self.rng) if s else [] for s in voiced]
        seen: set = set()
        timelines = []
        for i in range(self.count):
            chosen = self.usage.choose(pools, seen, self.rng)
            texts = {g: v[aligned_pick[i]] if aligned else per_group[g][i] for g, v in enumerate(voiced) if v}
            voice = pick_voice(self.settings.voice, random.Random(f"{i}/{[p.index(c) for p, c in zip(pools, chosen)]}"))
            timelines.append(self._grouped_output(groups, pools, chosen, texts, voice))
        return timelines

    def _grouped_output(self, groups: list[dict[str, Any]], pools: list[list[Item]], chosen: list[Item],
                        texts: dict[int, str], voice: str | None) -> Timeline:
        """Each group lasts its script's speech (``texts`` by group index; or its Duration) and is
        filled with its own media."""
        editor = self._editor(len(groups))
        speech: list[SpeechClip] = []
        said: list = []  # (speech, timeline offset, script) for captions
        clock = 0.0
        for g, group in enumerate(groups):
            if g in texts:
                spoken = self._speak(texts[g], voice)
                length = spoken.duration
                speech.append(SpeechClip(spoken.path, round(clock, 3), spoken.duration, self.settings.speech_volume))
                said.append((spoken, round(clock, 3), texts[g]))
            else:
                length = float(group.get("Duration") or DEFAULT_GROUP_DURATION)
            check_output_length([clock + length])
            self._open(editor, g, chosen[g])
            editor.fill([g], {g: pools[g]}, length)
            editor.fit(editor.reel.segments[g], length, speed=False)
            clock += length
        self.usage.record(editor.reel)
        cuts = editor.reel.cuts()
        clock = _hold_last_shot_for_tail(cuts, speech, clock)
        cuts, clock = _cap_silent_end(cuts, speech, clock, self.settings.max_duration)
        return Timeline(cuts, round(clock, 3), speech, said, voice, _shortfall(editor, clock, "the groups' time"))

    # ------------------------------------------------------------ image-text mode

    def image_text(self, inputs: dict[str, Any]) -> list[Timeline]:
        """Media matched to the script's sentences by the words they share (engine/timeline/matching.py),
        each held for its sentence's share of the speech."""
        s = self.settings
        pool = self.catalog.items(inputs["MediaArray"], s.ranges, 0, None, s.media_volume, s.detect)
        words = [media_words(item.reference, s.meta.get(item.reference)) for item in pool]
        scripts = spread(inputs.get("SpeechTextArray") or [], self.count, self.rng)
        timelines = []
        for i in range(self.count):
            voice, speech, said = None, [], []
            if scripts:
                voice = pick_voice(s.voice, self.rng)
                spoken = self._speak(scripts[i], voice)
                sentences = [t for t in _SENTENCE.split(scripts[i]) if t.strip()] or [scripts[i]]
                total_chars = sum(len(t) for t in sentences)
                lengths = [spoken.duration * len(t) / total_chars for t in sentences]  # each sentence's share
                speech = [SpeechClip(spoken.path, 0.0, spoken.duration, s.speech_volume)]
                said = [(spoken, 0.0, scripts[i])]
                target = max(spoken.duration + SPEECH_TAIL, s.shot)
                lengths[-1] += target - spoken.duration
                picks = match_media(sentences, words, self.rng)
            else:
                picks = list(range(len(pool)))
                self.rng.shuffle(picks)
                lengths = [s.shot] * len(pool)
                target = float(s.fixed_duration or min(sum(lengths), float(s.max_duration or sum(lengths))))
            timelines.append(self._image_text_output(pool, picks, lengths, target, voice, speech, said))
        return timelines

    def _image_text_output(self, pool: list[Item], picks: list[int], lengths: list[float], target: float,
                           voice: str | None, speech: list[SpeechClip], said: list) -> Timeline:
        check_output_length([target])
        editor = self._editor(len(lengths))
        clock = 0.0
        for n, length in enumerate(lengths):
            length = min(length, target - clock)
            if length <= 0.04:
                break
            item = pool[picks[n % len(picks)]]
            self._open(editor, n, item)
            editor.fill([n], {n: [item] + [o for o in pool if o is not item]}, length)
            editor.fit(editor.reel.segments[n], length, speed=True)
            clock += length
        self.usage.record(editor.reel)
        return Timeline(editor.reel.cuts(), round(target, 3), speech, said, voice,
                        _shortfall(editor, target, "the voice-over"))


def _hold_last_shot_for_tail(cuts: list[Cut], speech: list[SpeechClip], clock: float) -> float:
    """A tail after the last word, on the last shot (more of its clip where there is more, else
    its last frame held); the timeline's new end."""
    if speech and cuts:
        spoken_end = max(c.start + c.duration for c in speech)
        extra = spoken_end + SPEECH_TAIL - clock
        if extra > 0:
            last = cuts[-1]
            if not last.item.photo:  # more of the clip where it has more, then its last frame
                speed = last.source / max(1e-6, last.duration - last.hold)
                more = 0.0 if last.hold else max(0.0, min(extra, (last.room - last.source) / speed))
                last.source = round(last.source + more * speed, 3)
                last.hold = round(last.hold + extra - more, 3)
            last.duration = round(last.duration + extra, 3)
            clock += extra
    return clock


def _cap_silent_end(cuts: list[Cut], speech: list[SpeechClip], clock: float,
                    max_duration: float | None) -> tuple[list[Cut], float]:
    """MaxDuration drops silent groups at the end, never a word (preflight warns)."""
    if max_duration and clock > float(max_duration):
        keep = max([float(max_duration)] + [c.start + c.duration + SPEECH_TAIL for c in speech])
        if keep < clock:
            clock = keep
            out, at = [], 0.0
            for c in cuts:
                if at >= keep - 1e-3:
                    break
                if at + c.duration > keep:
                    ratio = (keep - at) / c.duration
                    c.duration, c.source, c.hold = round(keep - at, 3), round(c.source * ratio, 3), round(c.hold * ratio, 3)
                out.append(c)
                at += c.duration
            cuts = out
    return cuts, clock
