"""A cloud run names each local file by its MediaId everywhere the job names it: in the inputs
and in ``MediaMetaDataArray`` (in/out points, words), so both still point at the same media."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from sheet2video.cloud.local_media import PLACEHOLDER_ID, as_uploaded
from sheet2video.plan.campaign import PlannedJob


def test_media_metadata_names_the_uploaded_media_like_the_inputs():
    inputs = {"MediaArray": ["media/shoe.jpg", "https://example.com/bag.jpg"]}
    editing = {"MediaConfig": {"MediaMetaDataArray": [
        {"Media": "media/shoe.jpg", "Description": "red shoe"},
        {"Media": "https://example.com/bag.jpg", "TimeRangeList": [{"In": 0, "Out": 2}]}]}}
    job = PlannedJob("r1", [2], {"InputConfig": json.dumps(inputs), "EditingConfig": json.dumps(editing),
                                 "OutputConfig": json.dumps({})}, "h")
    (sent,) = as_uploaded([job], SimpleNamespace(path=Path("spring.xlsx")), "b", "cn-shanghai", None)
    metas = sent.parsed("EditingConfig")["MediaConfig"]["MediaMetaDataArray"]
    assert sent.parsed("InputConfig")["MediaArray"] == [PLACEHOLDER_ID, "https://example.com/bag.jpg"]
    assert [m["Media"] for m in metas] == [PLACEHOLDER_ID, "https://example.com/bag.jpg"]
    assert metas[0]["Description"] == "red shoe"
