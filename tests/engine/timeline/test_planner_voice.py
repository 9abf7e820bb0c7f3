"""The planner picks one voice per output from a comma list: varied across outputs, repeated with the seed."""

from __future__ import annotations

from sheet2video.engine.timeline.planner import JobPlanner
from sheet2video.engine.media.probe import MediaInfo
from sheet2video.engine.speech.result import Speech


class Recorder:
    def __init__(self):
        self.voices = []

    def synthesize(self, text, voice, rate, language=None):
        self.voices.append(voice)
        return Speech("/nonexistent.wav", 2.0)


class Resolver:
    def resolve(self, reference):
        return reference


def plan(params, outputs=12):
    speech = Recorder()
    planner = JobPlanner(Resolver(), speech, probe_fn=lambda path: MediaInfo("image", 0.0, 64, 64))
    planner.plan(params, [f"/out/{i}.mp4" for i in range(outputs)])
    return speech.voices


def params(voice, grouped=False, seed="a"):
    groups = [{"GroupName": "g", "MediaArray": ["x.png", "y.png"]}]
    inputs = {"MediaGroupArray": groups, "SpeechTextArray": ["Hello there.", "Welcome!"]}
    if grouped:
        groups[0]["SpeechTextArray"] = inputs.pop("SpeechTextArray")
        groups.append({"GroupName": "h", "MediaArray": ["z.png"], "SpeechTextArray": ["Bye now.", "See you."]})
    return {"InputConfig": inputs, "EditingConfig": {"SpeechConfig": {"Voice": voice}}, "OutputConfig": {},
            "ClientToken": seed}  # fmt: skip


def test_global_voice_over_varies_and_repeats():
    voices = plan(params("zhiru,zhilun"))
    assert len(voices) == 12 and set(voices) == {"zhiru", "zhilun"}
    assert plan(params("zhiru,zhilun")) == voices
    assert plan(params("xiaoyun")) == ["xiaoyun"] * 12


def test_grouped_voice_over_keeps_one_voice_per_output():
    voices = plan(params("zhiru,zhilun", grouped=True), outputs=8)
    per_output = list(zip(voices[::2], voices[1::2]))  # two voiced groups per output
    assert all(a == b for a, b in per_output)
    assert {a for a, _ in per_output} == {"zhiru", "zhilun"}
    assert plan(params("zhiru,zhilun", grouped=True), outputs=8) == voices
