"""What every command shares: one line per error with its exit code, the sheet input options, and
reading plus preflighting a sheet."""

from __future__ import annotations

import functools
import os
import sys

import click

from sheet2video.errors import ConfigError, PreflightError, Sheet2VideoError

__all__ = ["echo_err", "handle_errors", "exit_now", "sheet_options", "parse_delimiter", "load_plan"]


def echo_err(message: str) -> None:
    click.echo(message, err=True)


def handle_errors(func):
    """Turn library errors into one line each and the right exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except PreflightError as error:
            for problem in error.problems:
                echo_err(f"error: {problem}")
            echo_err(f"{len(error.problems)} problem(s) found; nothing was sent or written.")
            sys.exit(error.exit_code)
        except Sheet2VideoError as error:
            echo_err(f"error: {error}")
            sys.exit(error.exit_code)
        except KeyboardInterrupt as interrupt:  # a run says how far it got (run/interrupts.py: Interrupted); else one word
            echo_err(str(interrupt) or "interrupted")
            exit_now(130)

    return wrapper


def exit_now(code: int) -> None:
    """Exit without waiting for render threads: their FFmpeg dies with the process (render.py sets
    PR_SET_PDEATHSIG), exactly as after a crash the engine recovers from; the next run resumes."""
    import logging

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)


def sheet_options(func):
    """The input options every command that reads a sheet shares (csvkit style)."""
    options = [
        click.option("--sheet", "sheet_name", metavar="NAME|INDEX", help="Worksheet of a workbook by name or 0-based index (default: the one whose column names match; the first if it does)."),
        click.option("--encoding", metavar="ENC", help="Encoding of a CSV (default: its byte-order mark, else UTF-8, else GB18030, else the best guess, which is named; e.g. gbk, cp1252)."),
        click.option("--delimiter", metavar="CHAR", help="CSV delimiter (default: sniffed from the header among , ; TAB |)."),
        click.option(
            "--templates",
            "templates",
            default="script",
            show_default=True,
            metavar="script|grouped|PATH",
            help="Template set: 'script' (one row = one job), 'grouped' (one row = one media group), or a folder.",
        ),
        click.option("--rows", "rows", metavar="SPEC", help="Only these spreadsheet rows, e.g. 2-40,55 (header is row 1)."),
        click.option("--no-probe", "no_probe", is_flag=True,
                     help="Do not open the local media files at plan time (also SHEET2VIDEO_NO_PROBE=1); bad files then fail at render."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def parse_delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    value = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(value, value)
    if len(value) != 1:
        raise ConfigError(f"--delimiter must be a single character, got {value!r} (use \\t for TAB)")
    return value


def load_plan(path, sheet_name, encoding, delimiter, templates, rows, no_probe=False, media_root=None, strict=False):
    """Read the sheet and preflight every selected row, warnings on stderr (shared by plan and run --dry-run)."""
    from sheet2video.plan.campaign import parse_row_selection, plan_campaign, plan_warnings
    from sheet2video.plan.columns import UnknownColumnCheck
    from sheet2video.plan.media_preflight import MediaCheck, probing_disabled
    from sheet2video.sheets.read import read_sheet
    from sheet2video.plan.templating import load_template_set

    selection = parse_row_selection(rows)
    template_set = load_template_set(templates)
    sheet = read_sheet(path, sheet=sheet_name, encoding=encoding, delimiter=parse_delimiter(delimiter))
    for notice in sheet.notices:
        echo_err(f"note: {notice}")
    checks = () if no_probe or probing_disabled() else (MediaCheck(sheet, template_set, media_root),)
    if strict:
        checks += (UnknownColumnCheck(sheet, template_set),)
    planned = plan_campaign(sheet, template_set, selection, checks=checks)
    for warning in plan_warnings(sheet, planned, template_set):
        echo_err(f"warning: {warning}")
    return sheet, planned
