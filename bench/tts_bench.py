"""``tts_rtf_piper`` / ``tts_rtf_espeak``: speech real-time factor (synthesis seconds ÷ audio seconds)
of each engine, one ratio per line synthesised (fresh cache, model already loaded), median reported.

Hook into ``python -m bench`` with a group ``tts`` → ``tts_benchmarks(reps)``; alone:
``python -m bench.tts_bench``.
"""

from __future__ import annotations

import tempfile
import time

from bench.common import Result

LINES = [
    "Welcome to the grand opening of our new store.",
    "Fresh fruit and vegetables, every single morning.",
    "This weekend only, everything is half price!",
    "Bring a friend, and you both get a free coffee.",
    "Open from eight in the morning until ten at night; see you soon.",
]


def _rtf(synth, voice: str | None, reps: int) -> list[float]:
    ratios = []
    for i in range(max(reps, 3)):
        text = LINES[i % len(LINES)] + f" Offer {i}."  # a new line each time: no cache hit
        start = time.perf_counter()
        speech = synth.synthesize(text, voice, None)
        ratios.append((time.perf_counter() - start) / speech.duration)
    return ratios


def tts_benchmarks(reps: int = 5) -> list[Result]:
    from sheet2video.engine.speech import piper as piper_tts
    from sheet2video.engine.speech.synthesis import DefaultSynthesizer

    synth = DefaultSynthesizer(tempfile.mkdtemp(prefix="bench-tts-"))
    synth.synthesize("Warm up.", None, None)  # loads the model (sha256 + alignment patch) once
    synth.synthesize("Warm up.", "en-us+m3", None)
    results = [Result("tts_rtf_espeak", "<= 0.25", _rtf(synth, "en-us+m3", reps), note="espeak-ng, en-us")]
    if piper_tts.available():
        results.insert(0, Result("tts_rtf_piper", "<= 0.25", _rtf(synth, None, reps), note="Piper en_US-joe-medium, CPU"))
    return results


if __name__ == "__main__":
    for result in tts_benchmarks():
        print(result.to_dict())
