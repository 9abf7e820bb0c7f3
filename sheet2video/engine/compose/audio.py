"""The audio track: the shots' own sound (where a shot's volume is above 0), the voice-over
clips at their places, the background music looped to length, faded in and out and ducked under
speech, mixed without rescaling (``amix normalize=0``) and peak-limited. Exactly ``T`` samples long.

Loudness (``task.loudness``, a target in LUFS): every voice-over clip is brought to the target
from its measured level, so the voice sets the programme loudness; the music sits
``MUSIC_UNDER_SPEECH`` LU under it at the default volume (0.3), or at the target when there is no
voice; ``volume`` then moves each relative to that (0.6 = 6 dB louder than the default). The gains
are fixed numbers computed from levels measured once, so no two-pass ``loudnorm`` is needed. A
limiter keeps the true peak under -1 dBTP.
"""

from __future__ import annotations

import math

from sheet2video.engine.compose.graph import AFMT, SAMPLE_RATE, Graph, absolute, atempo_chain, media_input, ms, num, samples, sec
from sheet2video.engine.media.formats import own_input
from sheet2video.engine.speech.loudness import LIMIT, MUSIC_UNDER_SPEECH
from sheet2video.engine.compose.video import Slot
from sheet2video.engine.timeline.task import RenderTask

__all__ = ["DEFAULT_MUSIC_VOLUME", "MUSIC_FADE_IN_MS", "MUSIC_FADE_OUT_MS", "END_FADE_MS", "audio_track"]

DEFAULT_MUSIC_VOLUME = 0.3  # the IMS default; the volume at which music sits MUSIC_UNDER_SPEECH under the voice
MUSIC_FADE_IN_MS = 300
MUSIC_FADE_OUT_MS = 1000  # over the tail after the last word (timeline.timing.SPEECH_TAIL)
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


def _speech(g: Graph, task: RenderTask, T: int) -> str | None:
    labels = []
    for clip in task.speech:
        start_s = samples(ms(clip.start))
        clip_ms = ms(clip.duration)
        if start_s >= T or clip_ms <= 0:
            continue
        idx = g.add_input("-t", sec(clip_ms), *own_input(absolute(clip.path), "wav"))  # our own voice-over WAV
        parts = [f"aresample={SAMPLE_RATE}", AFMT, f"atrim=end_sample={samples(clip_ms)}", "asetpts=PTS-STARTPTS"]
        parts += _volume(_gain(clip.volume, clip.loudness, task.loudness))
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


def _music(g: Graph, task: RenderTask, speech: str | None, T: int) -> tuple[str, str | None]:
    """The music chain (ducked under ``speech`` when asked); returns (music, speech) labels, the
    speech label replaced when it had to be split for the sidechain key."""
    music = task.music
    # The looped music never ends by itself; it is cut to T samples at the end of its chain.
    idx = g.add_input("-stream_loop", "-1", *media_input(task, music.path))
    parts = [f"aresample={SAMPLE_RATE}", AFMT, "asetpts=N/SR/TB"]
    if task.loudness is None:
        parts += _volume(float(music.volume))
    else:
        wanted = task.loudness - (MUSIC_UNDER_SPEECH if speech else 0.0)
        parts += _volume(_gain(music.volume, music.loudness, wanted, DEFAULT_MUSIC_VOLUME))
    fade_in = min(samples(MUSIC_FADE_IN_MS), T // 4)
    fade_out = min(samples(MUSIC_FADE_OUT_MS), T // 3)
    if fade_in > 0:
        parts.append(f"afade=t=in:start_sample=0:nb_samples={fade_in}")
    if fade_out > 0:
        parts.append(f"afade=t=out:start_sample={T - fade_out}:nb_samples={fade_out}")
    if speech and music.duck:
        g.add(f"{speech}asplit=2[spmix][spkey]")
        # sidechaincompress stops when either input ends and drops what it still buffers:
        # feed it an endless key and the endless music, and trim its output instead.
        g.add("[spkey]apad[spkeyp]")
        g.add(f"[{idx}:a]{','.join(parts)}[music]")
        g.add(f"[music][spkeyp]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400,atrim=end_sample={T}[mduck]")
        return "[mduck]", "[spmix]"
    g.add(f"[{idx}:a]{','.join(parts)},atrim=end_sample={T}[music]")
    return "[music]", speech


def audio_track(g: Graph, task: RenderTask, plan: list[Slot], audios: list, T: int) -> str:
    """Add the whole audio mix; return its label (``[aout]``)."""
    base = _shot_audio(g, plan, audios, int(task.fps))
    if base is None:
        g.add(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={T}[abase]")
    mix = ["[abase]"]
    speech = _speech(g, task, T)
    if task.music is not None:
        music, speech = _music(g, task, speech, T)
        mix.append(music)
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
