"""What a speech synthesis returns (``Speech`` and its ``Segment`` timings), the interface every
synthesizer meets, and the error codes both engines raise with.

Every segment's text is a substring of the script as written, so captions show exactly what was
typed; times are seconds within the WAV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Segment", "Speech", "SpeechSynthesizer", "TEXT_CODE", "SYNTH_CODE"]

TEXT_CODE = "InvalidParameter.SpeechText"  # the script itself is at fault (empty, nothing to speak)
SYNTH_CODE = "SpeechSynthesisFailed"  # the engine is at fault (missing data, bad model, failed call)


@dataclass(frozen=True)
class Segment:
    text: str  # a substring of the script, as written
    start: float  # seconds within the WAV
    end: float


@dataclass(frozen=True)
class Speech:
    path: str  # mono 16-bit PCM WAV
    duration: float  # seconds
    segments: tuple[Segment, ...] = ()  # one per clause, in order
    words: tuple[Segment, ...] = ()  # per word as the engine reports them (CJK: per word or character)


@runtime_checkable
class SpeechSynthesizer(Protocol):
    def synthesize(self, text: str, voice: str | None, rate: float | None, language: str | None = None) -> Speech: ...
