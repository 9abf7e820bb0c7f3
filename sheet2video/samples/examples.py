"""`sheet2video examples FOLDER`: a working copy of the example campaigns, with their media.

The sheets in example_sheets/ are tracked files and their media are not committed (they are
generated): running the examples in place would fail every row and rewrite tracked files. So the
examples are copied into a folder of their own (``demo/`` by default, git-ignored) with the sample
media generated into ``FOLDER/media``; the copies are the user's, to run, edit and rerun.
``cloud_en.csv`` is campaign_en with every media and output on OSS (``your-bucket``), the shape a
sheet has for ``--backend aliyun``.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from sheet2video.errors import ConfigError
from sheet2video.samples.media import generate_sample_media

__all__ = ["SOURCE", "SHEETS", "BUCKET", "prepare_examples", "cloud_sheet"]

SOURCE = Path(__file__).resolve().parents[2] / "example_sheets"
SHEETS = ("campaign_en", "campaign_zh", "grouped_en", "grouped_zh")
BUCKET = "https://your-bucket.oss-cn-shanghai.aliyuncs.com"


def prepare_examples(folder: Path) -> list[Path]:
    """Copy the example sheets into ``folder`` (a copy already there is kept: it may hold results)
    and generate their media; return the sheets."""
    if not (SOURCE / f"{SHEETS[0]}.xlsx").is_file():
        raise ConfigError(f"the example sheets are not in {SOURCE}: they come with the source (git clone the repository)")
    folder.mkdir(parents=True, exist_ok=True)
    sheets = []
    for stem in SHEETS:
        for suffix in (".xlsx", ".csv"):
            target = folder / f"{stem}{suffix}"
            if not target.exists():
                shutil.copyfile(SOURCE / target.name, target)
            sheets.append(target)
    cloud = folder / "cloud_en.csv"
    if not cloud.exists():
        cloud.write_text(cloud_sheet((SOURCE / "campaign_en.csv").read_text(encoding="utf-8-sig")), encoding="utf-8")
    sheets.append(cloud)
    generate_sample_media(folder / "media")
    return sheets


def cloud_sheet(text: str) -> str:
    """campaign_en as a cloud sheet: media/x → the bucket's media/x, outputs into the bucket."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0] + ["output"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows[1:]:
        cells = ["\n".join(f"{BUCKET}/{line}" if line.startswith("media/") else line for line in cell.split("\n"))
                 for cell in row]
        writer.writerow(cells + [f"{BUCKET}/videos/{row[0]}_{{index}}.mp4"])
    return out.getvalue()
