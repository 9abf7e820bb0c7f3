"""The report is tested on real runs: the run tests' media, campaign sheet and shared-engine fixtures."""

from tests.run.conftest import campaign, media_dir, server  # noqa: F401 (fixtures used by name)
