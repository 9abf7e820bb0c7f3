"""Pydantic models of the SubmitBatchMediaProducingJob parameters and their documented limits.

Sources: reference/ims-api.md §2.3–§2.10. Keys the models do not know pass through unchanged
(the cloud has more fields than are documented), but a key that looks like a typo of a known one
(``Titlearray``, ``MediaGroupArry``) is reported as a warning.

:mod:`sheet2video.cloud.checks` runs them over a whole job (``check_params``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "MAX_GROUPS",
    "MAX_MEDIA_PER_GROUP",
    "MAX_TEXT_ITEMS",
    "MAX_TITLE_CHARS",
    "MAX_SCRIPT_CHARS",
    "MAX_GROUP_NAME_CHARS",
    "MAX_USER_DATA_BYTES",
    "MAX_COUNT",
    "MediaGroup",
    "SubHeading",
    "Sticker",
    "InputConfig",
    "TimeRange",
    "MediaMetaData",
    "MediaConfigModel",
    "CAPTION_ALIGNMENTS",
    "FontFaceModel",
    "AsrConfigModel",
    "SpeechConfigModel",
    "BackgroundMusicConfigModel",
    "ALIGNMENTS",
    "TitleConfigModel",
    "ProcessConfigModel",
    "BackgroundImageConfigModel",
    "LoudnessConfigModel",
    "EditingConfig",
    "VideoConfig",
    "OutputConfig",
    "UserData",
    "job_mode",
]

MAX_GROUPS = 40
MAX_MEDIA_PER_GROUP = 200
MAX_TEXT_ITEMS = 50
MAX_TITLE_CHARS = 50
MAX_SCRIPT_CHARS = 1000
MAX_GROUP_NAME_CHARS = 50
MAX_USER_DATA_BYTES = 512
MAX_COUNT = 100
MIN_SIDE, MAX_SIDE, MAX_SHORT_SIDE = 128, 4096, 2160

_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=False)


Volume = Field(default=None, ge=0, le=10)


def _texts(max_chars: int):
    """A validator for a list of non-empty strings of bounded length."""

    def check(values: list[str] | None) -> list[str] | None:
        if values is None:
            return values
        for i, text in enumerate(values):
            if not text.strip():
                raise ValueError(f"item {i + 1} is empty")
            if len(text) > max_chars:
                raise ValueError(f"item {i + 1} has {len(text)} characters, at most {max_chars} are allowed")
        return values

    return check


# ---------------------------------------------------------------- InputConfig


class MediaGroup(_Model):
    GroupName: str = Field(min_length=1, max_length=MAX_GROUP_NAME_CHARS)
    MediaArray: list[str] = Field(min_length=1, max_length=MAX_MEDIA_PER_GROUP)
    SpeechTextArray: list[str] | None = Field(default=None, max_length=MAX_TEXT_ITEMS)
    Duration: float | None = Field(default=None, gt=0)
    Volume: float | None = Volume

    _speech = field_validator("SpeechTextArray")(_texts(MAX_SCRIPT_CHARS))

    @field_validator("GroupName")
    @classmethod
    def _no_emoji(cls, name: str) -> str:
        if _EMOJI.search(name):
            raise ValueError("a group name may not contain emoji")
        return name

    @model_validator(mode="after")
    def _duration_or_speech(self) -> MediaGroup:
        if self.SpeechTextArray and self.Duration is not None:
            raise ValueError("Duration applies only to a group without SpeechTextArray (speech sets its length)")
        return self

    @field_validator("MediaArray")
    @classmethod
    def _media_refs(cls, refs: list[str]) -> list[str]:
        for i, ref in enumerate(refs):
            if not ref.strip():
                raise ValueError(f"item {i + 1} is empty")
        return refs


class SubHeading(_Model):
    Level: int = Field(ge=1, le=5)
    TitleArray: list[str] = Field(min_length=1, max_length=MAX_TEXT_ITEMS)

    _titles = field_validator("TitleArray")(_texts(MAX_TITLE_CHARS))


class Sticker(_Model):
    MediaId: str | None = None
    MediaURL: str | None = None
    X: float | None = None
    Y: float | None = None
    Width: float | None = Field(default=None, gt=0)
    Height: float | None = Field(default=None, gt=0)
    DyncFrames: int | None = Field(default=None, ge=0, le=100)
    Opacity: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_source(self) -> Sticker:
        if not (self.MediaId or self.MediaURL):
            raise ValueError("a sticker needs MediaId or MediaURL")
        return self


class InputConfig(_Model):
    MediaGroupArray: list[MediaGroup] | None = Field(default=None, min_length=1, max_length=MAX_GROUPS)
    MediaArray: list[str] | None = Field(default=None, min_length=1)
    MediaSearchInput: dict[str, Any] | None = None
    SceneInfo: dict[str, Any] | None = None
    TitleArray: list[str] | None = Field(default=None, max_length=MAX_TEXT_ITEMS)
    SubHeadingArray: list[SubHeading] | None = Field(default=None, max_length=5)
    SpeechTextArray: list[str] | None = Field(default=None, max_length=MAX_TEXT_ITEMS)
    BackgroundMusicArray: list[str] | None = Field(default=None, max_length=MAX_TEXT_ITEMS)
    BackgroundImageArray: list[str] | None = Field(default=None, max_length=MAX_TEXT_ITEMS)
    StickerArray: list[Sticker] | None = Field(default=None, max_length=MAX_TEXT_ITEMS)

    _titles = field_validator("TitleArray")(_texts(MAX_TITLE_CHARS))
    _speech = field_validator("SpeechTextArray")(_texts(MAX_SCRIPT_CHARS))

    @model_validator(mode="after")
    def _mode_rules(self) -> InputConfig:
        if not (self.MediaGroupArray or self.MediaArray or self.MediaSearchInput):
            raise ValueError("needs MediaGroupArray (script mode), MediaArray or MediaSearchInput (image-text mode)")
        groups = self.MediaGroupArray or []
        names = [g.GroupName for g in groups]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"group names must be unique; repeated: {', '.join(dupes)}")
        if self.SpeechTextArray and any(g.SpeechTextArray for g in groups):
            raise ValueError(
                "grouped voice-over (MediaGroup.SpeechTextArray) cannot be combined with a global SpeechTextArray"
            )
        return self

    @property
    def mode(self) -> Literal["script-global", "script-grouped", "image-text"]:
        """Which solution the cloud will run (reference §2.3)."""
        if not self.MediaGroupArray:
            return "image-text"
        if self.SpeechTextArray:
            return "script-global"
        if any(g.SpeechTextArray or g.Duration is not None for g in self.MediaGroupArray):
            return "script-grouped"
        return "script-global"


# ---------------------------------------------------------------- EditingConfig


class TimeRange(_Model):
    In: float = Field(default=0, ge=0)
    Out: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.Out is not None and self.In >= self.Out:
            raise ValueError(f"In ({self.In:g} s) must be before Out ({self.Out:g} s)")
        return self


class MediaMetaData(_Model):
    Media: str = Field(min_length=1)
    GroupName: str | None = None
    TimeRangeList: list[TimeRange] | None = None


class MediaConfigModel(_Model):
    Volume: float | None = Volume
    MediaMetaDataArray: list[MediaMetaData] | None = None


CAPTION_ALIGNMENTS = Literal["TopLeft", "TopCenter", "TopRight", "CenterLeft", "CenterCenter", "CenterRight",
                             "BottomLeft", "BottomCenter", "BottomRight"]
_COLOUR = re.compile(r"^(?:(?:#|0x)?[0-9a-fA-F]{6}|white|black|yellow|red|green|blue|orange|pink|gr[ae]y)$", re.I)


class FontFaceModel(_Model):
    Bold: bool | None = None
    Italic: bool | None = None
    Underline: bool | None = None


class AsrConfigModel(_Model):
    """Voice-over caption style (engine: compose/captions.py). ``Enable: false`` turns captions off."""

    Enable: bool | None = None
    Font: str | None = None
    FontSize: float | None = Field(default=None, gt=0)  # at most a quarter of the height: _cross_rules
    FontColor: str | None = None
    FontColorOpacity: float | None = Field(default=None, ge=0, le=1)
    Outline: float | None = Field(default=None, ge=0, le=200)
    OutlineColour: str | None = None
    Alignment: CAPTION_ALIGNMENTS | None = None
    X: float | None = Field(default=None, ge=0)
    Y: float | None = Field(default=None, ge=0)
    TextWidth: float | None = Field(default=None, gt=0, le=1)
    FontFace: FontFaceModel | None = None

    @field_validator("FontColor", "OutlineColour")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not _COLOUR.match(value.strip()):
            raise ValueError(f"expected a colour like #ffffff, got {value!r}")
        return value

    @field_validator("X", "Y")
    @classmethod
    def _place(cls, value: float | None) -> float | None:
        if value is not None and 1 < value < 2:
            raise ValueError(f"is a fraction (0-1) of the size or pixels (2 or more), got {value}")
        return value

    @model_validator(mode="after")
    def _outline(self) -> AsrConfigModel:
        if self.Outline is not None and self.FontSize is not None and self.Outline > self.FontSize:
            raise ValueError(f"Outline {self.Outline:g} is wider than FontSize {self.FontSize:g}")
        return self


class SpeechConfigModel(_Model):
    Volume: float | None = Volume
    Gain: float | None = Volume  # the cloud's linear gain (Volume effect): multiplies Volume
    Voice: str | None = None
    SpeechRate: float | None = Field(default=None, ge=-500, le=500)
    SpeechLanguage: str | None = None
    Style: str | None = None
    AsrConfig: AsrConfigModel | None = None


class BackgroundMusicConfigModel(_Model):
    Volume: float | None = Volume
    Gain: float | None = Volume
    Style: str | None = None


ALIGNMENTS = tuple(v + h for v in ("Top", "Center", "Bottom") for h in ("Left", "Center", "Right"))
_TITLE_COLOUR = re.compile(r"^(?:#|0x)?[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?$|^[A-Za-z]+(?:@(?:0(?:\.\d+)?|1(?:\.0+)?))?$")


class TitleConfigModel(_Model):
    """Title / subheading style (SubtitleTrackClip-like keys; ``BackgroundColor`` and ``Shadow``
    are local-engine extensions, see engine/compose/titles.py)."""

    Font: str | None = None
    FontSize: float | None = Field(default=None, gt=0, le=1000)
    FontColor: str | None = None
    FontColorOpacity: float | None = Field(default=None, ge=0, le=1)
    X: float | None = None
    Y: float | None = None
    Alignment: str | None = None
    Outline: float | None = Field(default=None, ge=0, le=100)
    OutlineColour: str | None = None
    FontFace: FontFaceModel | None = None
    BackgroundColor: str | None = None
    Shadow: float | None = Field(default=None, ge=0, le=100)
    TextWidth: float | None = Field(default=None, gt=0)

    @field_validator("Alignment")
    @classmethod
    def _alignment(cls, value: str | None) -> str | None:
        if value is not None and value not in ALIGNMENTS:
            raise ValueError(f"must be one of {', '.join(ALIGNMENTS)}, got {value!r}")
        return value

    @field_validator("FontColor", "OutlineColour", "BackgroundColor")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not _TITLE_COLOUR.match(value.strip()):
            raise ValueError(f"must be a colour like #ffcc00 (or #ffcc0080 with opacity), got {value!r}")
        return value


def _transition_name(name: str) -> str:
    from sheet2video.engine.compose.transitions import check_transition  # the engine's name table

    problem = check_transition(name)
    if problem:
        raise ValueError(problem)
    return name


class ProcessConfigModel(_Model):
    SingleShotDuration: float | None = Field(default=None, gt=0)
    AlignmentMode: Literal["AutoSpeed", "Cut"] | None = None
    ImageDuration: float | None = Field(default=None, gt=0)
    EnableClipDetection: bool | None = None
    EnableTemporalOpt: bool | None = None
    AllowTransition: bool | None = None
    TransitionDuration: float | None = Field(default=None, gt=0, le=2)
    TransitionList: list[Annotated[str, AfterValidator(_transition_name)]] | None = None
    UseUniformTransition: bool | None = None
    AllowVfxEffect: bool | None = None
    VfxEffectProbability: float | None = Field(default=None, ge=0, le=100)
    VfxFirstClipEffectList: list[str] | None = None
    VfxNotFirstClipEffectList: list[str] | None = None

    @field_validator("VfxFirstClipEffectList", "VfxNotFirstClipEffectList")
    @classmethod
    def _effects(cls, names: list[str] | None) -> list[str] | None:
        from sheet2video.engine.compose.motion import EFFECTS

        for i, name in enumerate(names or []):
            if name.strip().lower() not in EFFECTS:
                raise ValueError(f"item {i + 1}: unknown effect {name!r}; the engine renders {', '.join(EFFECTS)}")
        return names


_FIT_SUBTYPES = ("Blur", "Color", "Image", "Cover", "Contain")  # IMS Blur/Color/Image; Cover/Contain: engine


class BackgroundImageConfigModel(_Model):
    """How a source of another aspect is fitted (engine: compose.fit)."""

    SubType: str | None = None
    Color: str | None = None
    Radius: float | None = Field(default=None, ge=0, le=1)

    @field_validator("SubType")
    @classmethod
    def _subtype(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in {s.lower() for s in _FIT_SUBTYPES}:
            raise ValueError(f"must be one of {', '.join(_FIT_SUBTYPES)}, got {value!r}")
        return value

    @field_validator("Color")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"#?[0-9A-Fa-f]{6}", value.strip()):
            raise ValueError(f"must be a colour #rrggbb, got {value!r}")
        return value


class LoudnessConfigModel(_Model):
    """A local-engine extension (the cloud ignores it): the mix's integrated loudness target."""

    Enable: bool | None = None
    Target: float | None = Field(default=None, ge=-40, le=-5)


class EditingConfig(_Model):
    MediaConfig: MediaConfigModel | None = None
    LoudnessConfig: LoudnessConfigModel | None = None
    SpeechConfig: SpeechConfigModel | None = None
    BackgroundMusicConfig: BackgroundMusicConfigModel | None = None
    TitleConfig: TitleConfigModel | None = None
    SubHeadingConfig: dict[str, TitleConfigModel] | None = None
    ProcessConfig: ProcessConfigModel | None = None
    BackgroundImageConfig: BackgroundImageConfigModel | None = None

    @field_validator("SubHeadingConfig")
    @classmethod
    def _levels(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for level in value or {}:
            if level not in {"1", "2", "3", "4", "5"}:
                raise ValueError(f"keys are subheading levels 1-5, got {level!r}")
        return value


# ---------------------------------------------------------------- OutputConfig


class VideoConfig(_Model):
    Crf: int | None = Field(default=None, ge=0, le=51)


class OutputConfig(_Model):
    MediaURL: str
    Count: int = Field(default=1, ge=1, le=MAX_COUNT)
    MaxDuration: float | None = Field(default=None, gt=0)
    FixedDuration: float | None = Field(default=None, gt=0)
    Width: int | None = Field(default=None, ge=MIN_SIDE, le=MAX_SIDE)
    Height: int | None = Field(default=None, ge=MIN_SIDE, le=MAX_SIDE)
    Video: VideoConfig | None = None
    GeneratePreviewOnly: bool | None = None

    @field_validator("MediaURL")
    @classmethod
    def _index(cls, url: str) -> str:
        if "{index}" not in url:
            raise ValueError("must contain the placeholder {index} (one file per output)")
        return url

    @field_validator("Width", "Height")
    @classmethod
    def _even(cls, side: int | None) -> int | None:
        if side is not None and side % 2:
            raise ValueError(f"must be even for H.264 yuv420p, got {side}")
        return side

    @model_validator(mode="after")
    def _short_side(self) -> OutputConfig:
        if self.Width and self.Height and min(self.Width, self.Height) > MAX_SHORT_SIDE:
            raise ValueError(f"the short side may be at most {MAX_SHORT_SIDE} px, got {self.Width}x{self.Height}")
        return self


# ---------------------------------------------------------------- UserData


class UserData(_Model):
    NotifyAddress: str | None = None

    @field_validator("NotifyAddress")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if re.match(r"^https?://[^\s/]+", value) or value.startswith("ice-callback"):
            return value
        raise ValueError("must be an http(s) URL or an MNS queue name starting with 'ice-callback'")


def job_mode(input_config: dict[str, Any]) -> str:
    """The solution the cloud runs for a (valid) InputConfig."""
    return InputConfig.model_validate(input_config).mode
