"""A campaign CSV written from rows, and ``sheet2video plan --out -`` run on it (tests of the
script template's columns)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from click.testing import CliRunner

from sheet2video.cli import cli

__all__ = ["csv_sheet", "plan"]


def csv_sheet(folder: Path) -> Callable[..., Path]:
    """``write(header, *rows)`` → ``folder/campaign.csv`` (every cell quoted, so lines stay in a cell)."""

    def write(header: str, *rows: list[str]) -> Path:
        path = folder / "campaign.csv"
        lines = [header, *(",".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


def plan(path: Path):
    return CliRunner().invoke(cli, ["plan", str(path), "--out", "-"])
