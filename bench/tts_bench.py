"""``tts_rtf_piper`` / ``tts_rtf_espeak``: speech real-time factor (synthesis seconds ÷ audio seconds)
of each engine, one ratio per text synthesised (fifteen lines, new each time so nothing comes from the
cache; model already loaded), median reported. Judged on CPU seconds (every thread of onnxruntime
counted, so on 2 cores it is above the wall figure), with wall beside it.

Hook into ``python -m bench`` with a group ``tts`` → ``tts_benchmarks(reps)``; alone:
``python -m bench.tts_bench``.
"""

from __future__ import annotations

import tempfile

from bench.common import Result, measure

LINES = [
    "Welcome to the grand opening of our new store.",
    "Fresh fruit and vegetables, every single morning.",
    "This weekend only, everything is half price!",
    "Bring a friend, and you both get a free coffee.",
    "Open from eight in the morning until ten at night; see you soon.",
]


def _rtf(name: str, synth, voice: str | None, reps: int, note: str) -> Result:
    wall, cpu = [], []
    for i in range(max(reps, 3)):
        # new each time (no cache hit), and long enough (~45 s of speech) that espeak-ng's
        # few milliseconds a line do not drown in the clock's noise
        text = " ".join(f"{line} Offer {i}.{n}." for n in range(3) for line in LINES)
        spoken = []
        took = measure(lambda: spoken.append(synth.synthesize(text, voice, None)))
        wall.append(took.wall / spoken[0].duration)
        cpu.append(took.cpu / spoken[0].duration)
    return Result(name, "<= 0.25", wall, cpu_ratios=cpu, basis="cpu", note=note)


def tts_benchmarks(reps: int = 5) -> list[Result]:
    from sheet2video.engine.speech import piper as piper_tts
    from sheet2video.engine.speech.synthesis import DefaultSynthesizer

    synth = DefaultSynthesizer(tempfile.mkdtemp(prefix="bench-tts-"))
    synth.synthesize("Warm up.", None, None)  # loads the model (sha256 + alignment patch) once
    synth.synthesize("Warm up.", "en-us+m3", None)
    results = [_rtf("tts_rtf_espeak", synth, "en-us+m3", reps, "espeak-ng, en-us")]
    if piper_tts.available():
        results.insert(0, _rtf("tts_rtf_piper", synth, None, reps, "Piper en_US-joe-medium, CPU"))
    return results


if __name__ == "__main__":
    for result in tts_benchmarks():
        print(result.to_dict())
