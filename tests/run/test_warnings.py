"""A finished video whose input was damaged carries a warning into the row's error column."""

from __future__ import annotations

import json

from sheet2video.run.job_answers import job_error


def test_job_level_warnings_become_the_rows_warning():
    """The engine's answer: warnings per sub-job in the job's ExtendOutput (the official sub-job model has none)."""
    job = {"Status": "Finished", "ExtendOutput": json.dumps({"Warnings": {"s1": ["cut.jpg: truncated"], "s2": ["cut.jpg: truncated"]}}),
           "SubJobList": [{"Status": "Success"}, {"Status": "Success"}]}
    assert job_error(job) == "warning: cut.jpg: truncated"
    assert job_error({"Status": "Finished", "ExtendOutput": "not json", "SubJobList": [{"Status": "Success"}]}) == ""
