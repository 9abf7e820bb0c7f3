"""Render one output video with one FFmpeg process: the whole composition in one filtergraph.

A :class:`RenderTask` is plain, JSON-serialisable data (``to_dict`` / ``from_dict``) so it can be
rendered on another machine later. :func:`build_command` turns it into an FFmpeg argv plus the
filtergraph text (pure; unit-testable); :func:`render` runs it, writing to a temp name in the
output folder and renaming on success.

Timing: every time is rounded to integer milliseconds first, then turned into integer frame counts
(video) and sample counts (audio, 44.1 kHz) from cumulative boundaries, so nothing drifts however
many shots there are. The video track has exactly ``round(duration * fps)`` frames and the audio
track exactly ``round(duration * 44100)`` samples.

Pixels never pass through Python. Frames are decoded only as far as needed: each shot seeks before
decoding (``-ss``/``-t`` on its input); a still image is decoded and scaled once, then repeated with
the ``loop`` filter; stickers and the background image are decoded once too.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import os
import re
import signal
import subprocess
import sys
import unicodedata
import uuid
from dataclasses import dataclass, field

from sheet2video.engine import fonts
from sheet2video.errors import RenderError

__all__ = [
    "Shot",
    "TextOverlay",
    "SpeechClip",
    "Music",
    "Sticker",
    "RenderTask",
    "RenderResult",
    "build_command",
    "render",
    "ffmpeg_exe",
    "escape_filter_value",
]

SAMPLE_RATE = 44100
FFMPEG_ENV = "SHEET2VIDEO_FFMPEG"
BAD_TASK = "InvalidParameter.RenderTask"


# --------------------------------------------------------------------------------------------
# Task data


class _Data:
    """``to_dict`` / ``from_dict`` for the task dataclasses (unknown keys are ignored)."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Shot(_Data):
    """One shot on the video track; shots are concatenated in order."""

    path: str  # absolute local file (video or image)
    kind: str  # "video" | "image"
    start: float  # in-point in the source, seconds (0 for images)
    source_duration: float  # seconds of source consumed (images: ignored)
    duration: float  # seconds the shot occupies in the output (≠ source_duration: speed change)
    volume: float = 0.0  # gain for the source's own audio; 0 = muted (IMS default)
    has_audio: bool = False


@dataclass
class TextOverlay(_Data):
    """A title (level 0) or subheading (levels 1..5, stacked below the title), shown throughout."""

    text: str
    level: int = 0
    # Optional IMS TitleConfig-like keys: FontSize (px), FontColor ("#rrggbb"), Y (0..1 fraction of
    # the height: top of the text block), Font (font file path), Outline (px), OutlineColour.
    style: dict = field(default_factory=dict)


@dataclass
class SpeechClip(_Data):
    path: str  # WAV from tts
    start: float  # seconds on the output timeline
    duration: float
    volume: float = 1.0


@dataclass
class Music(_Data):
    path: str
    volume: float = 0.3
    duck: bool = True  # lower the music under speech (sidechaincompress keyed by the speech mix)


@dataclass
class Sticker(_Data):
    path: str  # image
    x: int  # pixels, top-left corner, already resolved
    y: int
    width: int
    height: int
    opacity: float = 1.0


@dataclass
class RenderTask(_Data):
    output: str  # absolute .mp4 path
    width: int
    height: int
    duration: float  # total output duration (seconds)
    shots: list[Shot] = field(default_factory=list)
    fps: int = 25
    crf: int = 27
    titles: list[TextOverlay] = field(default_factory=list)
    speech: list[SpeechClip] = field(default_factory=list)
    music: Music | None = None  # looped or trimmed to the duration
    stickers: list[Sticker] = field(default_factory=list)
    background_image: str | None = None  # shots letterboxed over this image (cover-filled)

    @classmethod
    def from_dict(cls, data: dict) -> RenderTask:
        d = dict(data)
        d["shots"] = [Shot.from_dict(x) for x in d.get("shots") or []]
        d["titles"] = [TextOverlay.from_dict(x) for x in d.get("titles") or []]
        d["speech"] = [SpeechClip.from_dict(x) for x in d.get("speech") or []]
        d["stickers"] = [Sticker.from_dict(x) for x in d.get("stickers") or []]
        d["music"] = Music.from_dict(d["music"]) if d.get("music") else None
        return super().from_dict(d)


@dataclass
class RenderResult(_Data):
    path: str
    duration: float


# --------------------------------------------------------------------------------------------
# FFmpeg binary


def ffmpeg_exe() -> str:
    """``$SHEET2VIDEO_FFMPEG`` if set, else the FFmpeg shipped in the imageio-ffmpeg wheel."""
    configured = os.environ.get(FFMPEG_ENV)
    if configured:
        return configured
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.lru_cache(maxsize=None)
def _ffmpeg_major(exe: str) -> int | None:
    """FFmpeg's major version, or None when it cannot be told (git builds: assume current)."""
    try:
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"ffmpeg version n?(\d+)\.", out)
    return int(m.group(1)) if m else None


def _modern(exe: str) -> bool:
    """FFmpeg >= 7: ``-/filter_complex FILE`` (``-filter_complex_script`` is gone in 8+) and
    drawtext ``y_align``."""
    major = _ffmpeg_major(exe)
    return major is None or major >= 7


# --------------------------------------------------------------------------------------------
# Small helpers: times, escaping, colours


def _ms(seconds: float) -> int:
    return int(round(float(seconds) * 1000))


def _sec(ms: int) -> str:
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    return f"{sign}{ms // 1000}.{ms % 1000:03d}"


def _frames(ms: int, fps: int) -> int:
    return (ms * fps + 500) // 1000


def _samples(ms: int) -> int:
    return (ms * SAMPLE_RATE + 500) // 1000


def _num(x: float) -> str:
    """A short, stable decimal for gains and factors."""
    s = f"{float(x):.6f}".rstrip("0").rstrip(".")
    return s or "0"


_SPECIAL = set("\\':=[],;")


def escape_filter_value(value: str) -> str:
    """Escape ``value`` for use as one option value inside a filtergraph description.

    Two levels of FFmpeg's ``av_get_token`` unescape it: the graph parser (``[],;``) and the
    filter's option parser (``:``); ``\\`` and ``'`` are special at both. Backslash-escaping the
    union at each level makes any text (quotes, colons, percent, brackets, backslashes) literal.
    Use with ``drawtext=expansion=none`` so ``%`` is not expanded.
    """

    def once(s: str) -> str:
        return "".join("\\" + c if c in _SPECIAL else c for c in s)

    return once(once(value))


_HEX = re.compile(r"^(?:#|0x)?([0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?)$")
_NAMED = re.compile(r"^[A-Za-z]+(?:@(?:0(?:\.\d+)?|1(?:\.0+)?))?$")


def _color(value, default: str) -> str:
    if value in (None, ""):
        return default
    s = str(value).strip()
    m = _HEX.match(s)
    if m:
        return "0x" + m.group(1).upper()
    if _NAMED.match(s):
        return s
    raise RenderError(f"unusable colour {value!r} (expected #rrggbb)", code="InvalidParameter.FontColor")


def _even(n: int) -> int:
    return max(2, int(n) - int(n) % 2)


# --------------------------------------------------------------------------------------------
# Text layout (estimates; no font rendering in Python)


def _char_em(c: str) -> float:
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return 1.0
    if c == " ":
        return 0.32
    if c in "iljtfIr.,:;!|'`\"()[]":
        return 0.38
    if c in "mwMW@%":
        return 1.0
    if c.isupper():
        return 0.74
    if c.isdigit():
        return 0.64
    return 0.62


def _text_width(text: str, size: int) -> float:
    return sum(_char_em(c) for c in text) * size


def _tokens(text: str) -> list[str]:
    """Break opportunities: spaces, and between wide (CJK) characters."""
    out: list[str] = []
    word = ""
    for c in text:
        if c.isspace():
            if word:
                out.append(word)
                word = ""
            out.append(" ")
        elif unicodedata.east_asian_width(c) in ("W", "F"):
            if word:
                out.append(word)
                word = ""
            out.append(c)
        else:
            word += c
    if word:
        out.append(word)
    return out


def _wrap(text: str, size: int, max_width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for tok in _tokens(" ".join(paragraph.split())):
            candidate = line + tok
            if not line.strip() or _text_width(candidate.rstrip(), size) <= max_width:
                line = candidate if line.strip() or tok != " " else ""
                continue
            lines.append(line.rstrip())
            line = "" if tok == " " else tok
            # A single token wider than the line (a long word): break it by characters.
            while _text_width(line, size) > max_width and len(line) > 1:
                cut = len(line)
                while cut > 1 and _text_width(line[:cut], size) > max_width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        if line.strip():
            lines.append(line.rstrip())
    return [ln.strip() for ln in lines if ln.strip()]


def _balanced(text: str, size: int, max_width: float) -> list[str]:
    """Wrap, then narrow the measure as far as the line count allows, so no line is left with a
    lone word or character (titles read better as lines of similar length)."""
    lines = _wrap(text, size, max_width)
    if len(lines) < 2:
        return lines
    low, high = max_width / 2, max_width
    for _ in range(12):  # binary search for the narrowest measure with the same number of lines
        mid = (low + high) / 2
        if len(_wrap(text, size, mid)) <= len(lines):
            high = mid
        else:
            low = mid
    return _wrap(text, size, high)


def _layout(text: str, size: int, width: int, max_lines: int) -> tuple[int, list[str]]:
    """Wrap to 90 % of the width; shrink (down to half size) while it takes more than max_lines."""
    max_width = width * 0.9
    floor = max(8, size // 2)
    while True:
        lines = _balanced(text, size, max_width)
        if len(lines) <= max_lines or size <= floor:
            return size, lines
        size = max(floor, int(size * 0.9))


# --------------------------------------------------------------------------------------------
# Filtergraph construction


class _Graph:
    def __init__(self) -> None:
        self.inputs: list[list[str]] = []
        self.chains: list[str] = []

    def add_input(self, *args: str) -> int:
        self.inputs.append(list(args))
        return len(self.inputs) - 1

    def add(self, chain: str) -> None:
        self.chains.append(chain)

    def text(self) -> str:
        return ";\n".join(self.chains) + "\n"


def _abs(path: str) -> str:
    return os.path.abspath(os.fspath(path))


def _validate(task: RenderTask) -> None:
    def bad(msg: str) -> RenderError:
        return RenderError(f"render task: {msg}", code=BAD_TASK)

    if not task.output:
        raise bad("no output path")
    if int(task.width) < 2 or int(task.height) < 2:
        raise bad(f"size {task.width}x{task.height} is too small")
    if not (1 <= int(task.fps) <= 240):
        raise bad(f"fps {task.fps} out of range 1..240")
    if not (0 <= int(task.crf) <= 51):
        raise bad(f"crf {task.crf} out of range 0..51")
    if _ms(task.duration) <= 0:
        raise bad(f"duration {task.duration} must be positive")
    for i, s in enumerate(task.shots):
        if s.kind not in ("video", "image"):
            raise bad(f"shot {i}: kind {s.kind!r} is not 'video' or 'image'")
        if _ms(s.duration) < 0 or _ms(s.start) < 0 or _ms(s.source_duration) < 0:
            raise bad(f"shot {i}: negative time")
        if float(s.volume) < 0:
            raise bad(f"shot {i}: negative volume")
    for i, c in enumerate(task.speech):
        if _ms(c.start) < 0 or _ms(c.duration) < 0 or float(c.volume) < 0:
            raise bad(f"speech clip {i}: negative start, duration or volume")
    for i, st in enumerate(task.stickers):
        if int(st.width) < 1 or int(st.height) < 1:
            raise bad(f"sticker {i}: size {st.width}x{st.height}")
    if task.music is not None and float(task.music.volume) < 0:
        raise bad("music: negative volume")


def _atempo_chain(factor: float) -> list[str]:
    """atempo accepts 0.5..100 per instance; chain instances for factors outside."""
    parts: list[str] = []
    while factor < 0.5:
        parts.append("atempo=0.5")
        factor /= 0.5
    while factor > 100.0:
        parts.append("atempo=100")
        factor /= 100.0
    if abs(factor - 1.0) > 1e-9:
        parts.append(f"atempo={_num(factor)}")
    return parts


def _still_input(path: str) -> list[str]:
    """Input options for a still picture, decoded once (repeated by the ``loop`` filter).

    FFmpeg probes the format; a name holding ``%`` would be read by the image2 demuxer as a
    numbered sequence pattern, so such names are opened as one literal file."""
    if "%" in os.path.basename(path):
        return ["-f", "image2", "-pattern_type", "none", "-i", path]
    return ["-i", path]


_AFMT = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"


def build_command(
    task: RenderTask,
    *,
    ffmpeg: str | None = None,
    threads: int | None = None,
    preset: str = "veryfast",
    output: str | None = None,
    graph_path: str | None = None,
) -> tuple[list[str], str]:
    """The FFmpeg argv and filtergraph text for ``task``.

    With ``graph_path`` the argv reads the filtergraph from that file (``-/filter_complex`` on
    FFmpeg >= 7, ``-filter_complex_script`` before); without it the graph is inline. ``output``
    overrides ``task.output`` (``render`` uses a temp name).
    """
    _validate(task)
    exe = ffmpeg or ffmpeg_exe()
    modern = _modern(exe)
    W, H = _even(task.width), _even(task.height)
    fps = int(task.fps)
    total_ms = _ms(task.duration)
    N = max(1, _frames(total_ms, fps))
    T = max(1, _samples(total_ms))
    g = _Graph()

    # ---- shots: frame and sample budgets from cumulative millisecond boundaries -------------
    plan = []  # (shot, frames, samples)
    cum_ms = 0
    prev_f, prev_s = 0, 0
    shots = list(task.shots)
    for i, shot in enumerate(shots):
        cum_ms += _ms(shot.duration)
        last = i == len(shots) - 1
        end_f = N if last else min(N, _frames(cum_ms, fps))
        end_s = T if last else min(T, (end_f * SAMPLE_RATE + fps // 2) // fps)
        nf, ns = end_f - prev_f, end_s - prev_s
        prev_f, prev_s = end_f, end_s
        if nf > 0:
            plan.append((shot, nf, ns))
    if plan and sum(p[2] for p in plan) != T:  # make the audio segments add up exactly
        shot, nf, ns = plan[-1]
        plan[-1] = (shot, nf, ns + T - sum(p[2] for p in plan))

    letterbox = bool(task.background_image)
    if letterbox:
        fit = (
            f"scale={W}:{H}:force_original_aspect_ratio=decrease:force_divisible_by=2:out_range=tv,setsar=1,"
            f"format=yuva420p,pad={W}:{H}:(ow-iw)/2:(oh-ih)/2:color=black@0"
        )
        pix = "yuva420p"
    else:
        fit = f"scale={W}:{H}:force_original_aspect_ratio=increase:out_range=tv,crop={W}:{H},setsar=1,format=yuv420p"
        pix = "yuv420p"

    use_shot_audio = any(s.kind == "video" and s.has_audio and float(s.volume) > 0 for s, _, _ in plan)
    vlabels, alabels = [], []
    for k, (shot, nf, ns) in enumerate(plan):
        path = _abs(shot.path)
        dur_ms = max(1, _ms(shot.duration))
        if shot.kind == "image":
            idx = g.add_input(*_still_input(path))
            g.add(
                f"[{idx}:v]{fit},loop=loop={nf - 1}:size=1:start=0,"
                f"settb=1/{fps},setpts=N,trim=end_frame={nf}[v{k}]"
            )
            audio = None
        else:
            start_ms = _ms(shot.start)
            src_ms = _ms(shot.source_duration) or dur_ms
            args = ["-ss", _sec(start_ms)] if start_ms > 0 else []
            idx = g.add_input(*args, "-t", _sec(src_ms), "-i", path)
            speed = "" if src_ms == dur_ms else f"*{dur_ms}/{src_ms}"
            g.add(
                f"[{idx}:v]setpts=(PTS-STARTPTS){speed},fps={fps},{fit},"
                f"tpad=stop=-1:stop_mode=clone,trim=end_frame={nf},setpts=PTS-STARTPTS[v{k}]"
            )
            audio = (idx, src_ms / dur_ms) if shot.has_audio and float(shot.volume) > 0 else None
        vlabels.append(f"[v{k}]")
        if use_shot_audio:
            if audio is None:
                g.add(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={ns}[a{k}]")
            else:
                idx, factor = audio
                parts = ["asetpts=PTS-STARTPTS", *_atempo_chain(factor), f"aresample={SAMPLE_RATE}", _AFMT]
                if abs(float(shot.volume) - 1.0) > 1e-9:
                    parts.append(f"volume={_num(shot.volume)}")
                parts += ["apad", f"atrim=end_sample={ns}", "asetpts=PTS-STARTPTS"]
                g.add(f"[{idx}:a]{','.join(parts)}[a{k}]")
            alabels.append(f"[a{k}]")

    # ---- video track ---------------------------------------------------------------------------
    if not vlabels:
        g.add(f"color=c=black:s={W}x{H}:r={fps},format={pix},trim=end_frame={N},setsar=1[vcat]")
    elif len(vlabels) == 1:
        g.add(f"{vlabels[0]}null[vcat]")
    else:
        # The trailing pad+trim only matters if a source delivered no frames at all.
        g.add(
            f"{''.join(vlabels)}concat=n={len(vlabels)}:v=1:a=0,"
            f"tpad=stop=-1:stop_mode=clone,trim=end_frame={N}[vcat]"
        )
    cur = "[vcat]"

    if letterbox:
        idx = g.add_input(*_still_input(_abs(task.background_image)))
        g.add(
            f"[{idx}:v]scale={W}:{H}:force_original_aspect_ratio=increase:out_range=tv,crop={W}:{H},setsar=1,format=yuv420p,"
            f"loop=loop={N - 1}:size=1:start=0,settb=1/{fps},setpts=N,trim=end_frame={N}[bg]"
        )
        g.add(f"[bg]{cur}overlay=x=0:y=0:eof_action=endall:shortest=1:format=yuv420[vbg]")
        cur = "[vbg]"

    for k, st in enumerate(task.stickers):
        idx = g.add_input(*_still_input(_abs(st.path)))
        opacity = min(1.0, max(0.0, float(st.opacity)))
        alpha = "" if opacity >= 1.0 else f",colorchannelmixer=aa={_num(opacity)}"
        g.add(f"[{idx}:v]scale={int(st.width)}:{int(st.height)},setsar=1,format=rgba{alpha}[st{k}]")
        g.add(f"{cur}[st{k}]overlay=x={int(st.x)}:y={int(st.y)}:eof_action=repeat:format=auto[vs{k}]")
        cur = f"[vs{k}]"

    draws = _drawtext_filters(task.titles, W, H, modern)
    tail = [*draws, "format=yuv420p"]
    g.add(f"{cur}{','.join(tail)}[vout]")

    # ---- audio track ---------------------------------------------------------------------------
    if use_shot_audio:
        if len(alabels) == 1:
            g.add(f"{alabels[0]}anull[abase]")
        else:
            g.add(f"{''.join(alabels)}concat=n={len(alabels)}:v=0:a=1[abase]")
    else:
        g.add(f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={T}[abase]")
    mix = ["[abase]"]

    speech_labels = []
    for k, clip in enumerate(task.speech):
        start_s = _samples(_ms(clip.start))
        clip_ms = _ms(clip.duration)
        if start_s >= T or clip_ms <= 0:
            continue
        idx = g.add_input("-t", _sec(clip_ms), "-i", _abs(clip.path))
        parts = [f"aresample={SAMPLE_RATE}", _AFMT, f"atrim=end_sample={_samples(clip_ms)}", "asetpts=PTS-STARTPTS"]
        if abs(float(clip.volume) - 1.0) > 1e-9:
            parts.append(f"volume={_num(clip.volume)}")
        if start_s > 0:
            parts.append(f"adelay=delays={start_s}S:all=1")
        parts += [f"apad=whole_len={T}", f"atrim=end_sample={T}"]
        g.add(f"[{idx}:a]{','.join(parts)}[sp{k}]")
        speech_labels.append(f"[sp{k}]")
    speech = None
    if len(speech_labels) == 1:
        speech = speech_labels[0]
    elif speech_labels:
        g.add(
            f"{''.join(speech_labels)}amix=inputs={len(speech_labels)}:duration=first:"
            f"dropout_transition=0:normalize=0[speech]"
        )
        speech = "[speech]"

    if task.music is not None:
        # The looped music never ends by itself; it is cut to T samples at the end of its chain.
        idx = g.add_input("-stream_loop", "-1", "-i", _abs(task.music.path))
        parts = [f"aresample={SAMPLE_RATE}", _AFMT, "asetpts=N/SR/TB"]
        if abs(float(task.music.volume) - 1.0) > 1e-9:
            parts.append(f"volume={_num(task.music.volume)}")
        if speech and task.music.duck:
            g.add(f"{speech}asplit=2[spmix][spkey]")
            # sidechaincompress stops when either input ends and drops what it still buffers:
            # feed it an endless key and the endless music, and trim its output instead.
            g.add("[spkey]apad[spkeyp]")
            g.add(f"[{idx}:a]{','.join(parts)}[music]")
            g.add(
                "[music][spkeyp]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400,"
                f"atrim=end_sample={T}[mduck]"
            )
            speech, music = "[spmix]", "[mduck]"
        else:
            g.add(f"[{idx}:a]{','.join(parts)},atrim=end_sample={T}[music]")
            music = "[music]"
        mix.append(music)
    if speech:
        mix.append(speech)

    # A peak limiter (delay-compensated, so no samples move) keeps loud mixes from clipping.
    limiter = "alimiter=limit=0.98:level=0:latency=1"
    if len(mix) == 1 and not use_shot_audio:
        g.add(f"[abase]{_AFMT}[aout]")  # silence
    elif len(mix) == 1:
        g.add(f"[abase]{limiter},apad=whole_len={T},atrim=end_sample={T},{_AFMT}[aout]")
    else:
        g.add(
            f"{''.join(mix)}amix=inputs={len(mix)}:duration=first:dropout_transition=0:normalize=0,"
            f"{limiter},apad=whole_len={T},atrim=end_sample={T},{_AFMT}[aout]"
        )

    # ---- argv ----------------------------------------------------------------------------------
    graph = g.text()
    argv = [exe, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]
    if threads:
        argv += ["-filter_complex_threads", str(int(threads))]
    for args in g.inputs:
        argv += args
    if graph_path:
        argv += ["-/filter_complex", graph_path] if modern else ["-filter_complex_script", graph_path]
    else:
        argv += ["-filter_complex", graph]
    argv += ["-map", "[vout]", "-map", "[aout]"]
    argv += ["-c:v", "libx264", "-preset", preset, "-crf", str(int(task.crf))]
    if threads:
        argv += ["-threads", str(int(threads))]
    argv += ["-pix_fmt", "yuv420p", "-r", str(fps)]
    argv += ["-c:a", "aac", "-b:a", "128k", "-ar", str(SAMPLE_RATE), "-ac", "2"]
    argv += ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1", "-movflags", "+faststart"]
    argv += ["-f", "mp4", output or _abs(task.output)]
    return argv, graph


def _drawtext_filters(titles: list[TextOverlay], W: int, H: int, modern: bool) -> list[str]:
    base = max(10, round(min(W, H) * 0.08))
    out: list[str] = []
    cursor = round(H * 0.10)
    for t in sorted(titles, key=lambda t: int(t.level or 0)):
        text = (t.text or "").strip()
        if not text:
            continue
        style = t.style or {}
        level = max(0, min(5, int(t.level or 0)))
        default_size = base if level == 0 else max(8, round(base * (0.72 - 0.04 * (level - 1))))
        size = int(round(float(style.get("FontSize") or default_size)))
        if size < 4:
            raise RenderError(f"font size {style.get('FontSize')!r} too small", code="InvalidParameter.FontSize")
        size, lines = _layout(text, size, W, max_lines=2 if level == 0 else 2)
        if style.get("Y") not in (None, ""):
            y = float(style["Y"])
            top = round(y * H) if 0 <= y <= 1 else round(y)
        else:
            top = cursor
        font = fonts.font_for(text, style.get("Font") or None)
        color = _color(style.get("FontColor"), "white")
        border_color = _color(style.get("OutlineColour"), "black@0.85")
        border = int(style["Outline"]) if style.get("Outline") not in (None, "") else max(1, round(size / 14))
        shadow = max(1, round(size / 20))
        line_h = round(size * 1.3)
        for i, line in enumerate(lines):
            opts = [
                f"fontfile={escape_filter_value(font)}",
                f"text={escape_filter_value(line)}",
                "expansion=none",
                f"fontsize={size}",
                f"fontcolor={color}",
                f"borderw={border}",
                f"bordercolor={border_color}",
                f"shadowx={shadow}",
                f"shadowy={shadow}",
                "shadowcolor=black@0.5",
                "x=(w-text_w)/2",
                f"y={top + i * line_h}",
            ]
            if modern:
                opts.append("y_align=font")
            out.append("drawtext=" + ":".join(opts))
        cursor = top + len(lines) * line_h + round(size * 0.35)
    return out


# --------------------------------------------------------------------------------------------
# Running


def _input_files(task: RenderTask) -> list[str]:
    files = [s.path for s in task.shots]
    files += [c.path for c in task.speech]
    files += [s.path for s in task.stickers]
    if task.music is not None:
        files.append(task.music.path)
    if task.background_image:
        files.append(task.background_image)
    return [_abs(f) for f in files]


def _check_inputs(task: RenderTask) -> None:
    for path in dict.fromkeys(_input_files(task)):
        try:
            size = os.path.getsize(path)
        except OSError:
            raise RenderError(f"{path}: media file not found", code="InvalidMaterial.NotFound") from None
        if size == 0:
            raise RenderError(f"{os.path.basename(path)}: cannot read media (the file is empty)", code="InvalidMaterial.Corrupt")
    # An in-point at or past the end of a source gives a segment without frames, which FFmpeg
    # cannot configure (or which would shorten the video): say so instead.
    durations: dict[str, float | None] = {}
    for i, shot in enumerate(task.shots):
        if shot.kind != "video" or _ms(shot.start) <= 0:
            continue
        path = _abs(shot.path)
        if path not in durations:
            durations[path] = _container_duration(path)
        length = durations[path]
        if length is not None and shot.start >= length - 0.02:
            raise RenderError(
                f"shot {i}: in-point {_sec(_ms(shot.start))} s is at or past the end of "
                f"{os.path.basename(path)} ({length:.2f} s)",
                code=BAD_TASK,
            )
    if task.music is not None:
        # A looped (-stream_loop -1) input that yields no audio would never end: check it first.
        from sheet2video.engine.probe import probe

        info = probe(task.music.path)
        if not info.has_audio:
            raise RenderError(f"{os.path.basename(task.music.path)}: music has no audio stream", code="InvalidMaterial.Corrupt")


def _container_duration(path: str) -> float | None:
    """The container's duration without decoding anything; None when unknown or unreadable
    (an unreadable file is reported by FFmpeg and then named by _diagnose)."""
    import av

    try:
        with av.open(path) as container:
            if container.duration and container.duration > 0:
                return container.duration / av.time_base
    except (av.FFmpegError, OSError, ValueError):
        return None
    return None


def _diagnose(task: RenderTask) -> RenderError | None:
    """After FFmpeg failed: name the input that cannot be read, if any."""
    from sheet2video.engine.probe import probe

    for path in dict.fromkeys(_input_files(task)):
        try:
            probe(path)
        except RenderError as exc:
            return exc
    return None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# Linux: FFmpeg gets SIGKILL when the engine dies (kill -9, the OOM killer) instead of rendering on
# as an orphan; its temp file is removed and the job rendered again when the engine restarts. (The
# signal follows the thread that started FFmpeg; that thread waits for it, so only death sends it.)
_PR_SET_PDEATHSIG = 1
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def _dies_with(parent: int):
    def in_child() -> None:  # between fork and exec: no locks, no imports
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the engine died before the line above: nobody is left to signal us
            os._exit(1)

    return in_child


def render(
    task: RenderTask,
    *,
    threads: int | None = None,
    preset: str = "veryfast",
    timeout: float | None = None,
) -> RenderResult:
    """Render ``task`` to ``task.output`` (atomically) and return where and how long."""
    _validate(task)
    _check_inputs(task)
    output = _abs(task.output)
    folder = os.path.dirname(output)
    os.makedirs(folder, exist_ok=True)
    stem = f".{os.path.basename(output)}.{uuid.uuid4().hex[:12]}"
    tmp_out = os.path.join(folder, stem + ".part")
    graph_file = os.path.join(folder, stem + ".filtergraph")
    argv, graph = build_command(task, threads=threads, preset=preset, output=tmp_out, graph_path=graph_file)
    try:
        with open(graph_file, "w", encoding="utf-8") as f:
            f.write(graph)
        try:
            proc = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout,
                preexec_fn=_dies_with(os.getpid()) if _PRCTL else None,
            )
        except subprocess.TimeoutExpired:
            raise RenderError(f"FFmpeg did not finish within {timeout} s", code="RenderFailed") from None
        except OSError as exc:
            raise RenderError(f"cannot run FFmpeg ({argv[0]}): {exc.strerror}", code="RenderFailed") from None
        if proc.returncode != 0 or not os.path.isfile(tmp_out) or os.path.getsize(tmp_out) == 0:
            cause = _diagnose(task)
            if cause is not None:
                raise cause
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            tail = " | ".join(line.strip() for line in err[-8:] if line.strip()) or "no error output"
            raise RenderError(f"FFmpeg failed (exit {proc.returncode}): {tail}", code="RenderFailed")
        os.replace(tmp_out, output)
    finally:
        _unlink(tmp_out)
        _unlink(graph_file)
    return RenderResult(path=output, duration=_ms(task.duration) / 1000)
