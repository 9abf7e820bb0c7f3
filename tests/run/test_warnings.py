"""A finished video whose input was damaged carries a warning into the row's error column."""

from __future__ import annotations

import json

from sheet2video.runner import _job_error


def test_sub_job_warnings_become_the_rows_warning():
    job = {"Status": "Finished", "SubJobList": [
        {"Status": "Success", "ExtendOutput": json.dumps({"Warnings": ["photo.jpg: the file is truncated"]})},
        {"Status": "Success", "ExtendOutput": json.dumps({"Warnings": ["photo.jpg: the file is truncated"]})},
        {"Status": "Success"},
    ]}
    assert _job_error(job) == "warning: photo.jpg: the file is truncated"
    assert _job_error({"Status": "Finished", "SubJobList": [{"Status": "Success", "ExtendOutput": "not json"}]}) == ""


def test_job_level_warnings_become_the_rows_warning():
    """The engine's answer: warnings per sub-job in the job's ExtendOutput (the official sub-job model has none)."""
    job = {"Status": "Finished", "ExtendOutput": json.dumps({"Warnings": {"s1": ["cut.jpg: truncated"], "s2": ["cut.jpg: truncated"]}}),
           "SubJobList": [{"Status": "Success"}, {"Status": "Success"}]}
    assert _job_error(job) == "warning: cut.jpg: truncated"
