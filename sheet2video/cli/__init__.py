"""The command line: a thin layer that parses options, calls the library and prints.

Every user mistake ends as one clear line on stderr and a documented exit code, never a traceback:
0 done, 1 some rows failed, 2 invalid input or configuration (nothing sent), 3 another run holds
the lock, 4 authentication or service error.
"""

import click

from sheet2video import __version__
from sheet2video.cli.engine_commands import examples, serve, voices
from sheet2video.cli.farm_commands import farm, worker
from sheet2video.cli.sheet_commands import plan, report, run, sync

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sheet2video")
def cli() -> None:
    """Turn a campaign spreadsheet into finished videos.

    Each row of an Excel or CSV sheet becomes an Alibaba Cloud IMS
    SubmitBatchMediaProducingJob ("one-click smart video creation"); the built-in
    local engine renders the same jobs with FFmpeg when there is no cloud account.

    \b
    Start here:
      sheet2video examples demo                   # the example campaigns and their media, in ./demo
      sheet2video plan demo/campaign_en.xlsx      # check every row, show the jobs and their files
      sheet2video plan demo/campaign_en.xlsx --out -   # the exact API parameters
      sheet2video run demo/campaign_en.xlsx       # make the videos, write the results into the sheet
    """


for command in (plan, run, sync, report, serve, voices, examples, worker, farm):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="sheet2video")


if __name__ == "__main__":
    main()
