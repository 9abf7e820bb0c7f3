"""Checking a whole job's parameters: every problem found, each with a dotted field path.

``check_params`` takes the five API parameters as Python objects (already parsed from their JSON
strings) and runs the models of :mod:`sheet2video.cloud.models` over them, then the rules that span
fields: near-miss keys, cross-parameter rules, the local engine's voice, font and unrendered-field
warnings.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from sheet2video.cloud.models import (
    MAX_USER_DATA_BYTES,
    EditingConfig,
    InputConfig,
    OutputConfig,
    UserData,
)

__all__ = ["PARAMETERS", "Issue", "check_params"]


# ---------------------------------------------------------------- checking a whole job

PARAMETERS = ("InputConfig", "EditingConfig", "OutputConfig", "UserData", "TemplateConfig")
_MODELS: dict[str, type[BaseModel]] = {
    "InputConfig": InputConfig,
    "EditingConfig": EditingConfig,
    "OutputConfig": OutputConfig,
    "UserData": UserData,
}


@dataclass(frozen=True)
class Issue:
    """One problem in a job's parameters: ``path`` is dotted, e.g. ``InputConfig.TitleArray[2]``."""

    path: str
    message: str
    level: Literal["error", "warning"] = "error"


def _path(parameter: str, loc: tuple[Any, ...]) -> str:
    out = parameter
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in ("function-after", "function-before") and not str(part).startswith(("list[", "dict[")):
            out += f".{part}"
    return out


_MESSAGES = {
    "greater_than_equal": "must be at least {ge}, got {input}",
    "less_than_equal": "must be at most {le}, got {input}",
    "greater_than": "must be greater than {gt}, got {input}",
    "less_than": "must be less than {lt}, got {input}",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "may have at most {max_length} items, got {actual_length}",
    "string_too_long": "may have at most {max_length} characters",
    "string_too_short": "may not be empty",
    "missing": "is required",
}


def _pydantic_issues(parameter: str, error: ValidationError) -> list[Issue]:
    issues = []
    for err in error.errors():
        template = _MESSAGES.get(err["type"])
        context = {**err.get("ctx", {}), "input": _short(err.get("input"))}
        if isinstance(err.get("input"), (list, str)):
            context.setdefault("actual_length", len(err["input"]))
        try:
            message = template.format(**context) if template else err["msg"].removeprefix("Value error, ")
        except (KeyError, IndexError):
            message = err["msg"]
        issues.append(Issue(_path(parameter, tuple(err["loc"])), message))
    return issues


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _near_misses(parameter: str, model: type[BaseModel], data: Any, prefix: str = "") -> list[Issue]:
    """Warn about unknown keys that look like a known key spelt wrong."""
    if not isinstance(data, dict):
        return []
    issues = []
    known, lowered, submodels = _shape(model)
    for key, value in data.items():
        if key in known:
            sub = submodels.get(key)
            if sub is not None:
                items = value if isinstance(value, list) else [value]
                for i, item in enumerate(items):
                    index = f"[{i}]" if isinstance(value, list) else ""
                    issues += _near_misses(parameter, sub, item, f"{prefix}.{key}{index}")
            continue
        guess = lowered.get(key.lower()) or next(iter(difflib.get_close_matches(key, known, n=1, cutoff=0.8)), None)
        if guess:
            issues.append(Issue(f"{parameter}{prefix}.{key}", f"unknown key; did you mean {guess!r}? (sent as is)", "warning"))
    return issues


@functools.cache
def _shape(model: type[BaseModel]) -> tuple[list[str], dict[str, str], dict[str, type[BaseModel]]]:
    """A model's known keys, their lower-case spellings and the sub-models under them (computed once)."""
    known = list(model.model_fields)
    submodels = {}
    for key in known:
        annotation = model.model_fields[key].annotation
        for candidate in getattr(annotation, "__args__", ()) or (annotation,):
            for inner in getattr(candidate, "__args__", ()) or (candidate,):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    submodels[key] = inner
    return known, {k.lower(): k for k in known}, submodels


def check_params(params: dict[str, Any]) -> list[Issue]:
    """Validate parsed API parameters; return every error and warning found (empty = fine)."""
    issues: list[Issue] = []
    valid: dict[str, BaseModel] = {}
    for parameter, model in _MODELS.items():
        data = params.get(parameter)
        if data is None:
            if parameter in ("InputConfig", "OutputConfig"):
                issues.append(Issue(parameter, "is required"))
            continue
        if not isinstance(data, dict):
            issues.append(Issue(parameter, f"must be a JSON object, got {type(data).__name__}"))
            continue
        try:
            valid[parameter] = model.model_validate(data)
        except ValidationError as error:
            issues += _pydantic_issues(parameter, error)
        issues += _near_misses(parameter, model, data)
    if "InputConfig" in valid and "OutputConfig" in valid:
        issues += _cross_rules(valid["InputConfig"], valid["OutputConfig"], params)
    issues += _speech_issues(params)
    issues += _metadata_words(params)
    issues += _not_rendered(params.get("EditingConfig"))
    issues += _font_rules(params)
    if "UserData" in params:
        size = len(json.dumps(params["UserData"], ensure_ascii=False, separators=(",", ":")).encode())
        if size > MAX_USER_DATA_BYTES:
            issues.append(Issue("UserData", f"is {size} bytes as JSON, at most {MAX_USER_DATA_BYTES} are allowed"))
    return issues


# Fields the cloud documents (or third-party code sends) that the local engine accepts but does not
# draw: said once per job, so no accepted field silently changes nothing.
_NOT_RENDERED = {
    ("SpeechConfig", "CustomizedVoice"): "custom cloud voices are not available locally; a local voice speaks",
    ("SpeechConfig", "SpecialWordsConfig"): "highlighted or forbidden words are not applied locally",
    ("SpeechConfig", "AsrConfig", "AdaptMode"): "caption adapt modes are not applied locally (lines are fitted to TextWidth)",
    ("SpeechConfig", "AsrConfig", "EffectColorStyleId"): "caption effect styles are cloud presets, not drawn locally",
    ("SpeechConfig", "AsrConfig", "BubbleStyleId"): "caption bubble styles are cloud presets, not drawn locally",
    ("BackgroundMusicConfig", "Style"): "the music style is not applied locally",
    ("ProcessConfig", "AllowFilter"): "colour filters are not drawn locally",
    ("ProcessConfig", "FilterList"): "colour filters are not drawn locally",
    ("ProcessConfig", "EnableClipDetection"): "clip detection applies to movie-highlight jobs only",
    ("ProcessConfig", "EnableTemporalOpt"): "temporal optimisation applies to movie-highlight jobs only",
}


def _not_rendered(editing: Any) -> list[Issue]:
    from sheet2video.engine.speech.own_voices import own_voice

    issues = []
    for path, why in _NOT_RENDERED.items():
        node = editing
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if path == ("SpeechConfig", "CustomizedVoice") and own_voice(node) is not None:
            continue  # a team's own voice of that name speaks (own_voices.py)
        if node not in (None, False, [], ""):
            issues.append(Issue("EditingConfig." + ".".join(path), f"{why} (sent as is)", "warning"))
    return issues


def _metadata_words(params: dict[str, Any]) -> list[Issue]:
    """``MediaMetaData`` ``Title``, ``Description`` and ``Tags`` (a local extension: a string or a list
    of strings): the words image-text jobs match media to sentences by (engine/timeline/matching.py).
    Wrong types are errors; words nothing will read are a warning."""
    inputs = params.get("InputConfig") if isinstance(params.get("InputConfig"), dict) else {}
    editing = params.get("EditingConfig")
    config = editing.get("MediaConfig") if isinstance(editing, dict) else None
    entries = config.get("MediaMetaDataArray") if isinstance(config, dict) else None
    image_text = not inputs.get("MediaGroupArray") and isinstance(inputs.get("MediaArray"), list)
    media = set(map(str, inputs.get("MediaArray") or [])) if image_text else set()
    issues: list[Issue] = []
    for i, meta in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(meta, dict):
            continue
        path = f"EditingConfig.MediaConfig.MediaMetaDataArray[{i}]"
        for key in ("Title", "Description"):
            if meta.get(key) is not None and not isinstance(meta[key], str):
                issues.append(Issue(f"{path}.{key}", f"must be a string, got {_short(meta[key])}"))
        tags = meta.get("Tags")
        if tags is not None and not (isinstance(tags, str) or (isinstance(tags, list) and all(isinstance(t, str) for t in tags))):
            issues.append(Issue(f"{path}.Tags", f"must be a string or a list of strings, got {_short(tags)}"))
        words = next((key for key in ("Title", "Description", "Tags") if meta.get(key)), None)
        if words and not image_text and not any(x.level == "warning" for x in issues):  # said once per job
            issues.append(Issue(f"{path}.{words}", "is not used: only image-text jobs (InputConfig.MediaArray, no "
                                "MediaGroupArray) match media to sentences by words (sent as is)", "warning"))
        elif words and image_text and meta.get("Media") not in media:
            issues.append(Issue(f"{path}.Media", "names no media of InputConfig.MediaArray: its words are not used", "warning"))
    return issues


def _speech_issues(params: dict[str, Any]) -> list[Issue]:
    """Unspeakable scripts (errors) and the local engine's voice, language and style fallbacks
    (warnings), from the engine's own voice table."""
    from sheet2video.engine.speech.voices import speech_issues

    try:
        found = speech_issues(params)
    except (TypeError, ValueError, AttributeError):  # malformed parameters: the models already said why
        return []
    return [Issue(path, message, level) for path, message, level in found]


def _cross_rules(inputs: InputConfig, output: OutputConfig, params: dict[str, Any]) -> list[Issue]:
    """Rules that span two parameters (reference §2.3 and the FAQ)."""
    issues = []
    if output.FixedDuration is not None:
        if inputs.mode == "script-grouped":
            issues.append(Issue("OutputConfig.FixedDuration", "is not supported in grouped voice-over mode"))
        elif inputs.SpeechTextArray:
            issues.append(
                Issue("OutputConfig.FixedDuration", "cannot be used with a global SpeechTextArray (speech sets the length)")
            )
    if output.MaxDuration and inputs.SpeechTextArray:
        from sheet2video.engine.speech.script import speaking_seconds

        speed = _speech_speed(params)
        seconds = max(speaking_seconds(text, speed) for text in inputs.SpeechTextArray)
        if seconds > output.MaxDuration:
            issues.append(Issue("OutputConfig.MaxDuration", (
                f"the voice-over takes about {seconds:.0f} s (longest script), longer than MaxDuration "
                f"{output.MaxDuration:g} s: the video lasts as long as its voice-over"), "warning"))
    editing = params.get("EditingConfig")
    process = editing.get("ProcessConfig") if isinstance(editing, dict) else None  # not an object: already reported
    speech = editing.get("SpeechConfig") if isinstance(editing, dict) else None
    asr = speech.get("AsrConfig") if isinstance(speech, dict) else None
    size = asr.get("FontSize") if isinstance(asr, dict) else None
    height = output.Height or 1920  # the engine's default output height
    if isinstance(size, (int, float)) and size > height / 4:  # captions drawn at most 2 lines of a quarter height
        issues.append(Issue("EditingConfig.SpeechConfig.AsrConfig.FontSize",
                            f"must be at most a quarter of the output height ({height // 4} px), got {size:g}"))
    if isinstance(process, dict) and process.get("AlignmentMode") and inputs.mode == "script-grouped":
        issues.append(Issue("EditingConfig.ProcessConfig.AlignmentMode", "applies only to global voice-over mode", "warning"))
    background = editing.get("BackgroundImageConfig") if isinstance(editing, dict) else None
    if isinstance(background, dict) and str(background.get("SubType") or "").strip().lower() == "image" and not inputs.BackgroundImageArray:
        issues.append(Issue("EditingConfig.BackgroundImageConfig.SubType", "Image needs InputConfig.BackgroundImageArray"))
    return issues


def _font_rules(params: dict[str, Any]) -> list[Issue]:
    """Fonts the local engine cannot honour as named, and characters no installed font has:
    warnings (the render falls back / leaves the character out), never errors."""
    from sheet2video.engine.text import fonts

    issues: list[Issue] = []
    editing = params.get("EditingConfig") if isinstance(params.get("EditingConfig"), dict) else {}
    styles = [("EditingConfig.TitleConfig", editing.get("TitleConfig"))]
    sub = editing.get("SubHeadingConfig")
    styles += [(f"EditingConfig.SubHeadingConfig.{k}", v) for k, v in (sub.items() if isinstance(sub, dict) else ())]
    speech = editing.get("SpeechConfig")
    styles.append(("EditingConfig.SpeechConfig.AsrConfig", speech.get("AsrConfig") if isinstance(speech, dict) else None))
    for path, style in styles:
        if isinstance(style, dict) and isinstance(style.get("Font"), str):
            issues += [Issue(f"{path}.Font", message, level) for message, level in fonts.font_issues(style["Font"])]
    inputs = params.get("InputConfig") if isinstance(params.get("InputConfig"), dict) else {}
    texts = [(f"InputConfig.TitleArray[{i}]", t) for i, t in enumerate(inputs.get("TitleArray") or [])]
    for j, heading in enumerate(inputs.get("SubHeadingArray") or []):
        if isinstance(heading, dict):
            texts += [(f"InputConfig.SubHeadingArray[{j}].TitleArray[{i}]", t) for i, t in enumerate(heading.get("TitleArray") or [])]
    for path, text in texts:
        if isinstance(text, str):
            for c in fonts.missing_glyphs(text):
                code = " ".join(f"U+{ord(x):04X}" for x in c)
                issues.append(Issue(path, f"no installed font has the character {c!r} ({code}); it is left out of the video", "warning"))
    return issues


def _speech_speed(params: dict[str, Any]) -> float:
    """The speed factor of the job's ``SpeechRate`` (1 when absent or malformed: the models say why)."""
    from sheet2video.engine.speech.rate import ims_rate_to_speed

    editing = params.get("EditingConfig")
    speech = editing.get("SpeechConfig") if isinstance(editing, dict) else None
    rate = speech.get("SpeechRate") if isinstance(speech, dict) else None
    return ims_rate_to_speed(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else 1.0
