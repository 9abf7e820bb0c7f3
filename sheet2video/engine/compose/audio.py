"""The audio track: the shots' own sound (where a shot's volume is above 0), the voice-over
clips at their places, the background music looped to length, faded in and out and ducked under
speech, mixed without rescaling (``amix normalize=0``) and peak-limited. Exactly ``T`` samples long.

Loudness (``task.loudness``, a target in LUFS): every voice-over clip is brought to the target
from its measured level, so the voice sets the programme loudness. The music bed (at the default
volume 0.3) sits ``MUSIC_UNDER_SPEECH - DUCK_DB`` = 8 LU under the voice; while the voice speaks it
dips by ``DUCK_DB``, so it sits ``MUSIC_UNDER_SPEECH`` (14 LU) under it, loud enough to be heard and
quiet enough not to mask a word. The dip follows the speech clips' known timings (a fixed dB ramp,
not a compressor), so it cannot pump between words, and the music is back at its bed level
``DUCK_RELEASE_MS`` after the last word, then fades out with the video. With no voice the music
sits at the target. ``volume`` moves each relative to that (0.6 = 6 dB louder than the default).
The gains are fixed numbers computed from levels measured once, so no two-pass ``loudnorm`` is
needed. A limiter keeps the true peak under -1 dBTP.
"""

from __future__ import annotations

import math

from sheet2video.engine.compose.graph import AFMT, SAMPLE_RATE, Graph, absolute, atempo_chain, media_input, ms, num, samples, sec
from sheet2video.engine.media.formats import own_input
from sheet2video.engine.speech.loudness import LIMIT, MUSIC_UNDER_SPEECH
from sheet2video.engine.compose.video import Slot
from sheet2video.engine.timeline.task import RenderTask

__all__ = ["DEFAULT_MUSIC_VOLUME", "DUCK_DB", "DUCK_ATTACK_MS", "DUCK_RELEASE_MS", "DUCK_HOLD_MS", "MUSIC_FADE_IN_MS",
           "MUSIC_FADE_OUT_MS", "MUSIC_FADE_MIN_MS", "END_FADE_MS", "audio_track"]

DEFAULT_MUSIC_VOLUME = 0.3  # the IMS default; the volume at which music sits MUSIC_UNDER_SPEECH under the voice
DUCK_DB = 6.0  # the dip under speech: enough to clear the words, small enough that the bed stays music
DUCK_ATTACK_MS = 250  # ramp down, ending at the first word
DUCK_RELEASE_MS = 300  # ramp back up after the last word: slow enough not to jump, done well inside 0.5 s
DUCK_HOLD_MS = 1000  # a pause shorter than this keeps the music down (no bobbing between sentences)
MUSIC_FADE_IN_MS = 300
MUSIC_FADE_OUT_MS = 1000  # the music fades out over the last second, to the video's last sample...
MUSIC_FADE_MIN_MS = 300  # ...starting no earlier than the release after the last word (so ~0.7 s of a 1 s tail)
END_FADE_MS = 30  # the whole mix ends on silence, never on a click


def _gain(volume: float, measured: float | None, wanted: float | None, reference: float = 1.0) -> float:
    """The linear gain for an input: ``volume`` alone, or, with a loudness target and a measured
    level, the gain that brings it to ``wanted`` LUFS times ``volume / reference``."""
    volume = float(volume)
    if wanted is None or measured is None or not math.isfinite(measured) or volume <= 0:
        return volume
    return 10 ** ((wanted - measured) / 20) * volume / reference


def _volume(gain: float) -> list[str]:
    return [] if abs(gain - 1.0) < 1e-6 else [f"volume={num(gain)}"]


def _shot_audio(g: Graph, plan: list[Slot], audios: list, fps: int = 25) -> str | None:
    """The shots' own sound, segment by segment, or None when every shot is silent or muted.
    A shot with a transition into it starts early by its video lead; the two segments are
    crossfaded over that window (``acrossfade``), so the total stays exactly the slots' samples."""
    if not any(a is not None for a in audios):
        return None
    labels, leads = [], []
    start_f = 0
    for slot, audio in zip(plan, audios):
        # Samples from the window's first frame to the slot's first one, on the same rounding as slots().
        lead = (start_f * SAMPLE_RATE + fps // 2) // fps - ((start_f - slot.lead) * SAMPLE_RATE + fps // 2) // fps
        start_f += slot.nf
        leads.append(lead)
        out = g.label("a")
        if audio is None:
            g.add(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={slot.ns + lead}{out}")
        else:
            idx, factor = audio
            parts = ["asetpts=PTS-STARTPTS", *atempo_chain(factor), f"aresample={SAMPLE_RATE}", AFMT]
            if abs(float(slot.shot.volume) - 1.0) > 1e-9:
                parts.append(f"volume={num(slot.shot.volume)}")
            parts += ["apad", f"atrim=end_sample={slot.ns + lead}", "asetpts=PTS-STARTPTS"]
            g.add(f"[{idx}:a]{','.join(parts)}{out}")
        labels.append(out)
    if len(labels) == 1:
        g.add(f"{labels[0]}anull[abase]")
    elif not any(leads):
        g.add(f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1[abase]")
    else:
        cur = labels[0]
        for k, (label, lead) in enumerate(zip(labels[1:], leads[1:]), 1):
            nxt = "[abase]" if k == len(labels) - 1 else g.label("ax")
            join = f"acrossfade=nb_samples={lead}:overlap=1:curve1=tri:curve2=tri" if lead else "concat=n=2:v=0:a=1"
            g.add(f"{cur}{label}{join}{nxt}")
            cur = nxt
    return "[abase]"


def _programme(task: RenderTask, T: int) -> float | None:
    """The level (LUFS) each input is brought to: the target, raised by what the music-only
    stretches (the bed, ``MUSIC_UNDER_SPEECH - DUCK_DB`` under the voice, before the first word and
    after the last) take off the programme's integrated loudness, so the mix as a whole measures
    the target. Capped at 2 dB."""
    if task.loudness is None:
        return None
    spans = _spans(task, T) if task.music is not None and task.music.duck else []
    total = T / SAMPLE_RATE
    spoken = sum(b - a for a, b in spans)
    if not spans or total <= 0 or spoken >= total:
        return task.loudness
    bed = -(MUSIC_UNDER_SPEECH - DUCK_DB)
    under = 10 * math.log10(1 + 10 ** (-MUSIC_UNDER_SPEECH / 10))  # the ducked music adds this to the voice
    energy = (spoken * 10 ** (under / 10) + (total - spoken) * 10 ** (bed / 10)) / total
    return task.loudness + min(2.0, max(0.0, -10 * math.log10(energy)))


def _speech(g: Graph, task: RenderTask, T: int) -> str | None:
    labels = []
    level = _programme(task, T)
    for clip in task.speech:
        start_s = samples(ms(clip.start))
        clip_ms = ms(clip.duration)
        if start_s >= T or clip_ms <= 0:
            continue
        idx = g.add_input("-t", sec(clip_ms), *own_input(absolute(clip.path), "wav"))  # our own voice-over WAV
        parts = [f"aresample={SAMPLE_RATE}", AFMT, f"atrim=end_sample={samples(clip_ms)}", "asetpts=PTS-STARTPTS"]
        parts += _volume(_gain(clip.volume, clip.loudness, level))
        if start_s > 0:
            parts.append(f"adelay=delays={start_s}S:all=1")
        parts += [f"apad=whole_len={T}", f"atrim=end_sample={T}"]
        out = g.label("sp")
        g.add(f"[{idx}:a]{','.join(parts)}{out}")
        labels.append(out)
    if len(labels) == 1:
        return labels[0]
    if labels:
        g.add(f"{''.join(labels)}amix=inputs={len(labels)}:duration=first:dropout_transition=0:normalize=0[speech]")
        return "[speech]"
    return None


def _spans(task: RenderTask, T: int) -> list[tuple[float, float]]:
    """Where the voice speaks (seconds), with gaps under ``DUCK_HOLD_MS`` closed, so the music
    stays down through a short pause instead of bobbing up between sentences."""
    spans: list[list[float]] = []
    end_of_mix = T / SAMPLE_RATE
    for clip in sorted(task.speech, key=lambda c: c.start):
        a, b = max(0.0, float(clip.start)), min(end_of_mix, float(clip.start) + float(clip.duration))
        if b <= a:
            continue
        if spans and a - spans[-1][1] < DUCK_HOLD_MS / 1000:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    return [(a, b) for a, b in spans]


def _duck(spans: list[tuple[float, float]]) -> list[str]:
    """A fixed ``DUCK_DB`` dip over each span, ramped in over ``DUCK_ATTACK_MS`` before the first
    word (the timings are known, so the dip can lead the voice) and out over ``DUCK_RELEASE_MS``
    after the last: linear in dB, so it neither pumps between words nor waits on a detector."""
    if not spans:
        return []
    att, rel = DUCK_ATTACK_MS / 1000, DUCK_RELEASE_MS / 1000
    w = [f"clip(min((t-{num(a - att)})/{num(att)},({num(b + rel)}-t)/{num(rel)}),0,1)" for a, b in spans]
    depth = w[0]
    for term in w[1:]:
        depth = f"max({depth},{term})"
    # 10 ms frames: the per-frame gain steps stay under 0.3 dB on the ramps.
    return ["asetnsamples=n=441:p=0", f"volume=volume='pow(10,-{num(DUCK_DB)}*{depth}/20)':eval=frame"]


def _music(g: Graph, task: RenderTask, speech: str | None, T: int) -> str:
    """The music chain: at its bed level, dipped ``DUCK_DB`` while the voice speaks (so it sits
    ``MUSIC_UNDER_SPEECH`` under it), faded in, and faded out to the last sample of the video."""
    music = task.music
    spans = _spans(task, T) if speech else []
    duck = bool(spans) and music.duck
    # The looped music never ends by itself; it is cut to T samples at the end of its chain.
    idx = g.add_input("-stream_loop", "-1", *media_input(task, music.path))
    parts = [f"aresample={SAMPLE_RATE}", AFMT, "asetpts=N/SR/TB"]
    if task.loudness is None:
        parts += _volume(float(music.volume))
    else:
        wanted = _programme(task, T) - (MUSIC_UNDER_SPEECH if speech else 0.0) + (DUCK_DB if duck else 0.0)
        parts += _volume(_gain(music.volume, music.loudness, wanted, DEFAULT_MUSIC_VOLUME))
    if duck:
        parts += _duck(spans)
    fade_in = min(samples(MUSIC_FADE_IN_MS), T // 4)
    fade_out = min(samples(MUSIC_FADE_OUT_MS), T // 3)
    if spans:  # the fade starts once the music is back up after the last word (shorter tail: shorter fade)
        back = samples(ms(spans[-1][1] + (DUCK_RELEASE_MS / 1000 if duck else 0.0)))
        fade_out = min(fade_out, max(T - back, min(samples(MUSIC_FADE_MIN_MS), T // 3)))
    if fade_in > 0:
        parts.append(f"afade=t=in:start_sample=0:nb_samples={fade_in}")
    if fade_out > 0:
        parts.append(f"afade=t=out:start_sample={T - fade_out}:nb_samples={fade_out}:curve=qsin")
    g.add(f"[{idx}:a]{','.join(parts)},atrim=end_sample={T}[music]")
    return "[music]"


def audio_track(g: Graph, task: RenderTask, plan: list[Slot], audios: list, T: int) -> str:
    """Add the whole audio mix; return its label (``[aout]``)."""
    base = _shot_audio(g, plan, audios, int(task.fps))
    if base is None:
        g.add(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={T}[abase]")
    mix = ["[abase]"]
    speech = _speech(g, task, T)
    if task.music is not None:
        mix.append(_music(g, task, speech, T))
    if speech:
        mix.append(speech)
    # A peak limiter (delay-compensated, so no samples move) keeps loud mixes from clipping.
    end = min(samples(END_FADE_MS), T)
    tail = f"alimiter=limit={num(LIMIT)}:level=0:latency=1,apad=whole_len={T},atrim=end_sample={T}," \
           f"afade=t=out:start_sample={T - end}:nb_samples={end},{AFMT}"
    if len(mix) == 1 and base is None:
        g.add(f"[abase]{AFMT}[aout]")  # silence
    elif len(mix) == 1:
        g.add(f"[abase]{tail}[aout]")
    else:
        g.add(f"{''.join(mix)}amix=inputs={len(mix)}:duration=first:dropout_transition=0:normalize=0,{tail}[aout]")
    return "[aout]"
