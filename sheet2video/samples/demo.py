"""`make demo`: the main job from a clean clone, on the embedded engine.

Copies the example campaigns into ./demo (so git stays clean: `sheet2video examples`) with their
sample media, runs two of them (English script mode, Chinese grouped voice-over), and leaves real
MP4s and filled-in sheets — small variants, and one full-size 1080x1920 showcase of about 15 s (campaign_en's last row).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sheet2video.errors import Sheet2VideoError
from sheet2video.samples.examples import prepare_examples
from sheet2video.console.progress import PlainReporter, print_summary
from sheet2video.run.options import RunOptions
from sheet2video.run.runner import run_sheet

__all__ = ["ROOT", "CAMPAIGNS", "SHOWCASE", "main"]

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGNS = [("campaign_en.xlsx", "script"), ("grouped_zh.xlsx", "grouped")]
SHOWCASE = "autumn-showcase"  # the full-size row of campaign_en


def main(folder: Path = ROOT / "demo") -> int:
    print(f"copying the example sheets and generating their media in {folder} ...", file=sys.stderr)
    prepare_examples(folder)
    worst = 0
    for name, templates in CAMPAIGNS:
        sheet = folder / name
        shown = sheet.relative_to(ROOT) if sheet.is_relative_to(ROOT) else sheet
        print(f"\n== sheet2video run {shown} --templates {templates}", file=sys.stderr)
        try:
            summary = run_sheet(sheet, RunOptions(templates=templates), PlainReporter())
        except Sheet2VideoError as error:
            print(f"error: {error}", file=sys.stderr)
            return error.exit_code
        print_summary(summary)
        worst = max(worst, summary.exit_code)
    videos = sorted((folder / "videos").rglob("*.mp4"))
    print(f"\n{len(videos)} videos in {folder / 'videos'}; open the sheets in {folder} to see the links.", file=sys.stderr)
    print(f"review them all in a browser: {folder / (Path(CAMPAIGNS[0][0]).stem + '.report.html')}", file=sys.stderr)
    showcase = [v for v in videos if v.name.startswith(SHOWCASE)]
    if showcase:
        print(f"showcase (1080x1920, ~15 s): {showcase[0]}", file=sys.stderr)
    else:  # a demo folder from before the showcase row: its sheet copy is kept, so say how to refresh
        print(f"no showcase video: {folder / CAMPAIGNS[0][0]} predates it; delete {folder} and run again",
              file=sys.stderr)
    return worst


if __name__ == "__main__":
    sys.exit(main())
