"""One timeline per output: its shots, its voice-over clips and how long it lasts, in one of the
three modes the planner's docstring describes (script mode with a global or a grouped voice-over,
image-text mode). All draws come from the job's seeded generator, in a fixed order."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from sheet2video.engine.speech.synthesis import Speech, SpeechSynthesizer
from sheet2video.engine.speech.voices import pick_voice
from sheet2video.engine.timeline.draws import distinct_combinations, fresh_candidate, spread
from sheet2video.engine.timeline.material import Candidate, MediaCatalog
from sheet2video.engine.timeline.settings import PlanSettings
from sheet2video.engine.timeline.task import Shot, SpeechClip
from sheet2video.engine.timeline.timing import DEFAULT_GROUP_DURATION, SPEECH_TAIL, fit_shots, shot_length, trim_shots
from sheet2video.errors import RenderError

__all__ = ["Timeline", "plan_timelines"]

_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s*")

Pick = tuple[Candidate, float, float]  # (candidate, volume, natural length)


@dataclass
class Timeline:
    shots: list[Shot]
    duration: float
    speech: list[SpeechClip]
    voiced: list = field(default_factory=list)  # (speech, timeline offset, script): caption timings
    voice: str | None = None  # the Voice asked for this output (one out of a comma list)


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


class _JobTimelines:
    """The timelines of one job: what every mode shares (material, voice, settings, seeded draws)."""

    def __init__(self, catalog: MediaCatalog, speech: SpeechSynthesizer, settings: PlanSettings,
                 rng: random.Random, count: int):
        self.catalog = catalog
        self.speech = speech
        self.settings = settings
        self.rng = rng
        self.count = count

    def _pools(self, groups: list[dict[str, Any]]) -> tuple[list[list[Candidate]], list[float]]:
        """Each group's candidate shots and the volume of its clips' own sound."""
        s = self.settings
        pools = [self.catalog.candidates(g["MediaArray"], s.shot, s.ranges, g.get("GroupName")) for g in groups]
        volumes = [float(g["Volume"]) if g.get("Volume") is not None else s.media_volume for g in groups]
        return pools, volumes

    def _speak(self, text: str, voice: str | None) -> Speech:
        return self.speech.synthesize(text, voice, self.settings.rate, self.settings.language)

    # ------------------------------------------------------------ script mode, global voice-over

    def global_voice_over(self, groups: list[dict[str, Any]], inputs: dict[str, Any]) -> list[Timeline]:
        pools, volumes = self._pools(groups)
        combos = distinct_combinations([len(p) for p in pools], self.count, self.rng)
        scripts = spread(inputs.get("SpeechTextArray") or [], self.count, self.rng)
        return [self._global_output(pools, volumes, combo, scripts, i) for i, combo in enumerate(combos)]

    def _global_output(self, pools: list[list[Candidate]], volumes: list[float], combo: tuple[int, ...],
                       scripts: list[str], i: int) -> Timeline:
        """Output ``i``: one shot per group, then as many more as its voice-over (``scripts[i]``;
        none when ``scripts`` is empty) or the fixed length needs."""
        s = self.settings
        picks = [(pools[g][c], volumes[g], shot_length(pools[g][c], s)) for g, c in enumerate(combo)]
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
            target = float(s.fixed_duration) if s.fixed_duration else sum(p[2] for p in picks)
            if s.max_duration:
                target = min(target, float(s.max_duration))
        self._add_middle_shots(picks, pools, volumes, target)
        shots = fit_shots(picks, target, scale=bool(scripts) and s.align == "AutoSpeed")
        return Timeline(shots, round(target, 3), speech, said, voice)

    def _add_middle_shots(self, picks: list[Pick], pools: list[list[Candidate]], volumes: list[float],
                          target: float) -> None:
        """Too short for the voice-over or the fixed length: extra shots from the middle groups,
        inserted before the last shot, never the same clip as a neighbour when it can be helped."""
        middle = list(range(1, len(pools) - 1)) or list(range(len(pools)))
        guard = 0
        while sum(p[2] for p in picks) < target - 0.05 and guard < 200:
            g = self.rng.choice(middle)
            at = len(picks) - 1 if len(picks) > 1 else len(picks)
            cand = fresh_candidate(pools[g], [p[0] for p in picks[max(0, at - 1): at + 1]], self.rng)
            picks.insert(at, (cand, volumes[g], shot_length(cand, self.settings)))
            guard += 1

    # ------------------------------------------------------------ script mode, grouped voice-over

    def grouped_voice_over(self, groups: list[dict[str, Any]]) -> list[Timeline]:
        pools, volumes = self._pools(groups)
        voiced = [g.get("SpeechTextArray") or [] for g in groups]
        sizes = {len(s) for s in voiced if s}
        aligned = len(sizes) == 1  # every voiced group has N scripts: the n-th go together
        aligned_pick = spread(list(range(next(iter(sizes)))), self.count, self.rng) if aligned else []
        per_group = [spread(s, self.count, self.rng) if s else [] for s in voiced]
        combos = distinct_combinations([len(p) for p in pools], self.count, self.rng)
        timelines = []
        for i, combo in enumerate(combos):
            texts = {g: v[aligned_pick[i]] if aligned else per_group[g][i] for g, v in enumerate(voiced) if v}
            voice = pick_voice(self.settings.voice, random.Random(f"{i}/{combo}"))  # one voice per output
            timelines.append(self._grouped_output(groups, pools, volumes, combo, texts, voice))
        return timelines

    def _grouped_output(self, groups: list[dict[str, Any]], pools: list[list[Candidate]], volumes: list[float],
                        combo: tuple[int, ...], texts: dict[int, str], voice: str | None) -> Timeline:
        """Each group lasts its script's speech (``texts`` by group index; or its Duration) and is
        filled with its own shots."""
        shots: list[Shot] = []
        speech: list[SpeechClip] = []
        said: list = []  # (speech, timeline offset, script) for captions
        clock = 0.0
        for g, group in enumerate(groups):
            if g in texts:
                text = texts[g]
                spoken = self._speak(text, voice)
                length = spoken.duration
                speech.append(SpeechClip(spoken.path, round(clock, 3), spoken.duration, self.settings.speech_volume))
                said.append((spoken, round(clock, 3), text))
            else:
                length = float(group.get("Duration") or DEFAULT_GROUP_DURATION)
            shots += self._fill_group(pools[g], pools[g][combo[g]], volumes[g], length)
            clock += length
        clock = _hold_last_shot_for_tail(shots, speech, clock)
        shots, clock = _cap_silent_end(shots, speech, clock, self.settings.max_duration)
        return Timeline(shots, round(clock, 3), speech, said, voice)

    def _fill_group(self, pool: list[Candidate], first: Candidate, volume: float, length: float) -> list[Shot]:
        """``first``, then the group's other candidates in a seeded order until ``length`` is filled."""
        picks = [(first, volume, shot_length(first, self.settings))]
        others = [c for c in pool if c is not first]
        self.rng.shuffle(others)
        while sum(p[2] for p in picks) < length - 0.05 and others:
            cand = others.pop()
            picks.append((cand, volume, shot_length(cand, self.settings)))
        return fit_shots(picks, length, scale=False)

    # ------------------------------------------------------------ image-text mode

    def image_text(self, inputs: dict[str, Any]) -> list[Timeline]:
        """Approximation of image-text matching: media assigned to speech sentences in order."""
        s = self.settings
        pool = self.catalog.candidates(inputs["MediaArray"], s.shot, s.ranges)
        scripts = spread(inputs.get("SpeechTextArray") or [], self.count, self.rng)
        timelines = []
        for i in range(self.count):
            order = pool[:]
            self.rng.shuffle(order)
            voice = None
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
            else:
                lengths = [s.shot] * len(order)
                speech, said = [], []
                target = float(s.fixed_duration or min(sum(lengths), float(s.max_duration or sum(lengths))))
            shots = []
            for n, length in enumerate(lengths):
                cand = order[n % len(order)]
                shots += fit_shots([(cand, s.media_volume, shot_length(cand, s))], length, scale=False)
            timelines.append(Timeline(trim_shots(shots, target), round(target, 3), speech, said, voice))
        return timelines


def _hold_last_shot_for_tail(shots: list[Shot], speech: list[SpeechClip], clock: float) -> float:
    """A tail after the last word, held on the last shot; the timeline's new end."""
    if speech:
        spoken_end = max(c.start + c.duration for c in speech)
        if clock < spoken_end + SPEECH_TAIL and shots:
            shots[-1].duration = round(shots[-1].duration + spoken_end + SPEECH_TAIL - clock, 3)
            clock = spoken_end + SPEECH_TAIL
    return clock


def _cap_silent_end(shots: list[Shot], speech: list[SpeechClip], clock: float,
                    max_duration: float | None) -> tuple[list[Shot], float]:
    """MaxDuration drops silent groups at the end, never a word (preflight warns)."""
    if max_duration and clock > float(max_duration):
        keep = max([float(max_duration)] + [c.start + c.duration + SPEECH_TAIL for c in speech])
        if keep < clock:
            clock = keep
            shots = trim_shots(shots, clock)
    return shots, clock
