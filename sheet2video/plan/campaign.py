"""Rows → jobs → validated API parameters (the preflight), with deterministic ClientTokens.

``plan_campaign`` is the whole of ``sheet2video plan``: it groups the sheet's rows into jobs,
renders each job's templates, validates the result against the IMS models, and either returns
every job or raises ``PreflightError`` listing every problem in every selected row — nothing is
sent or written while any row is invalid.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from sheet2video.errors import ConfigError, PreflightError, Sheet2VideoError, SheetError, ValidationError
from sheet2video.cloud.checks import PARAMETERS, check_params
from sheet2video.sheets.read import Row, Sheet
from sheet2video.plan.columns import unknown_columns
from sheet2video.plan.row_view import MEDIA_PREFIX, RowView
from sheet2video.plan.templating import TemplateSet

__all__ = [
    "Job",
    "PlannedJob",
    "parse_row_selection",
    "group_jobs",
    "sheet_identity",
    "default_output",
    "client_token",
    "canonical_json",
    "render_job",
    "locate",
    "plan_warnings",
    "plan_campaign",
]

_UNSAFE_NAME = re.compile(r"[^\w.-]+")

@dataclass
class Job:
    key: str
    rows: list[Row]

    @property
    def row_numbers(self) -> list[int]:
        return [r.number for r in self.rows]


@dataclass
class PlannedJob:
    key: str
    rows: list[int]
    params: dict[str, str]           # exactly the API parameters to send (JSON strings), ClientToken first
    content_hash: str
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"job": self.key, "rows": self.rows, "params": self.params}, ensure_ascii=False)

    def parsed(self, parameter: str) -> Any:
        text = self.params.get(parameter)
        return json.loads(text) if text else None


# ---------------------------------------------------------------- row selection


def parse_row_selection(spec: str | None) -> set[int] | None:
    """``"2-40,55"`` → {2..40, 55}; None/empty → everything."""
    if not spec or not spec.strip():
        return None
    selected: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not match:
            raise ConfigError(f"--rows: {part!r} is not a row number or range like 2-40")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 2 or last < first:
            raise ConfigError(f"--rows: {part!r} is not a valid range (data starts at row 2)")
        selected.update(range(first, last + 1))
    return selected


# ---------------------------------------------------------------- rows → jobs


def group_jobs(sheet: Sheet, template_set: TemplateSet, selection: set[int] | None = None) -> tuple[list[Job], list[Sheet2VideoError]]:
    """Enabled rows → jobs (one per row, or grouped by the key column). Returns jobs and row problems."""
    problems: list[Sheet2VideoError] = []
    missing = [c for c in template_set.required_columns if c not in sheet.columns]
    if template_set.group_by and template_set.key_column not in sheet.columns:
        missing.insert(0, template_set.key_column)
    if missing:
        raise SheetError(
            f"missing required column(s): {', '.join(dict.fromkeys(missing))} (template set {template_set.name})", row=1
        )
    jobs: dict[str, Job] = {}
    for row in sheet.rows:
        view = RowView(row, sheet.headers, problems)
        if not view.flag("enabled"):
            continue
        key = view.text(template_set.key_column)
        if template_set.group_by:
            if not key:
                problems.append(SheetError("is empty; every row needs the job it belongs to", row=row.number, column=template_set.key_column))
                continue
            jobs.setdefault(key, Job(key, [])).rows.append(row)
            continue
        key = key or f"row{row.number}"
        if key in jobs:
            problems.append(SheetError(f"duplicate id {key!r} (also row {jobs[key].rows[0].number})", row=row.number, column=template_set.key_column))
            continue
        jobs[key] = Job(key, [row])
    selected = [job for job in jobs.values() if selection is None or selection.intersection(job.row_numbers)]
    if selection is not None:
        problems = [p for p in problems if p.row in selection]
    return selected, problems


# ---------------------------------------------------------------- jobs → parameters


def sheet_identity(sheet: Sheet) -> str:
    return f"{sheet.path.name}:{sheet.name}"


def default_output(sheet: Sheet, key: str) -> str:
    return f"{_UNSAFE_NAME.sub('_', sheet.path.stem)}/{_UNSAFE_NAME.sub('_', key)}_{{index}}.mp4"


def client_token(identity: str, key: str, content_hash: str, attempt: int = 0) -> str:
    """Same sheet, key, content and attempt → same token; anything else → a new one."""
    seed = "\x00".join([identity, key, content_hash, str(attempt)])
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render_job(sheet: Sheet, template_set: TemplateSet, job: Job) -> PlannedJob:
    """Render, validate and freeze one job. Raises PreflightError listing this job's problems."""
    cell_problems: list[SheetError] = []
    cell_warnings: list[SheetError] = []  # what the templates said with row.warn(...)
    views = [RowView(r, sheet.headers, cell_problems, cell_warnings) for r in job.rows]
    context = {
        "job": {"key": job.key, "rows": views, "first": views[0]},
        "row": views[0],
        "rows": views,
        "sheet": {"name": sheet.name, "stem": sheet.path.stem, "file": sheet.path.name},
        "default_output": default_output(sheet, job.key),
    }
    first = job.rows[0].number
    parsed = template_set.render(context, row_number=first)
    if parsed.get("InputConfig") is None:
        cell_problems.append(SheetError("no media given; fill at least one media column", row=first, column=template_set.columns.get("InputConfig")))
    issues = check_params(parsed)
    located = [
        locate(i.path, i.message, job.rows, sheet, template_set, parsed)
        for i in issues
        if i.level == "error" and not (i.path == "InputConfig" and parsed.get("InputConfig") is None)
    ]
    # a bad cell already explains the field it feeds: don't also report the default it fell back to
    bad_cells = {(p.row, p.column) for p in cell_problems}
    located = [p for p in located if (p.row, p.column) not in bad_cells]
    if cell_problems or located:
        raise PreflightError([*cell_problems, *located])
    params = {p: canonical_json(parsed[p]) for p in PARAMETERS if parsed.get(p) is not None}
    content_hash = hashlib.sha256(canonical_json(params).encode()).hexdigest()
    token = client_token(sheet_identity(sheet), job.key, content_hash)
    warnings = [str(w) for w in cell_warnings]
    warnings += [str(locate(i.path, i.message, job.rows, sheet, template_set, parsed)) for i in issues if i.level == "warning"]
    return PlannedJob(job.key, job.row_numbers, {"ClientToken": token, **params}, content_hash, warnings)


def locate(path: str, message: str, rows: list[Row], sheet: Sheet, template_set: TemplateSet, parsed: dict[str, Any]) -> ValidationError:
    """Point a problem with API field ``path`` at the sheet cell it came from, as well as we can."""
    group = re.match(r"InputConfig\.MediaGroupArray\[(\d+)\](?:\.(\w+))?", path)
    if group:
        index, field_name = int(group.group(1)), group.group(2)
        if template_set.group_by and index < len(rows):
            column = template_set.columns.get(f"MediaGroup.{field_name}") if field_name else None
            return ValidationError(message, row=rows[index].number, column=column, field=path)
        groups = (parsed.get("InputConfig") or {}).get("MediaGroupArray", [])
        if index < len(groups) and isinstance(groups[index], dict):
            wanted = f"{MEDIA_PREFIX}{str(groups[index].get('GroupName')).lower()}"
            column = next((h for h in sheet.headers if h.lower() == wanted), None)
            if column:
                return ValidationError(message, row=rows[0].number, column=column, field=path)
    prefixes = sorted((p for p in template_set.columns if path == p or path.startswith((p + ".", p + "["))), key=len)
    column = template_set.columns[prefixes[-1]] if prefixes else None
    return ValidationError(message, row=rows[0].number, column=column, field=path)


def plan_warnings(sheet: Sheet, planned: list[PlannedJob], template_set: TemplateSet | None = None) -> list[str]:
    """What a user should hear about a valid plan before it is sent (it does not stop anything);
    with ``template_set``, also the columns it does not read (a typo'd header)."""
    hidden = _hidden_rows_warning(sheet, planned)
    columns = [str(p) for p in unknown_columns(sheet, template_set)] if template_set is not None else []
    return columns + [w for job in planned for w in job.warnings] + ([hidden] if hidden else [])


def _hidden_rows_warning(sheet: Sheet, planned: list[PlannedJob]) -> str | None:
    """Rows the workbook hides (or a filter leaves out) are sent like any other: say so once."""
    planned_rows = {n for job in planned for n in job.rows}
    hidden = [n for n in sheet.hidden_rows if n in planned_rows]
    if not hidden:
        return None
    listed = ", ".join(map(str, hidden[:10])) + (f" and {len(hidden) - 10} more" if len(hidden) > 10 else "")
    return (f"row{'s' if len(hidden) > 1 else ''} {listed} {'are' if len(hidden) > 1 else 'is'} hidden in the "
            "workbook (or filtered out) and will be sent like any other; to skip a row, put no in an enabled column")


def plan_campaign(sheet: Sheet, template_set: TemplateSet, selection: set[int] | None = None, *,
                  checks: tuple[Callable[[list[PlannedJob]], list[Sheet2VideoError]], ...] = ()) -> list[PlannedJob]:
    """Preflight every selected row; return the planned jobs or raise PreflightError with every problem.

    ``checks`` look at the valid jobs as a whole (e.g. preflight_media.MediaCheck probing local files)
    and add their problems to the same report."""
    jobs, problems = group_jobs(sheet, template_set, selection)
    planned = []
    for job in jobs:
        try:
            planned.append(render_job(sheet, template_set, job))
        except PreflightError as error:
            problems.extend(error.problems)
        except Sheet2VideoError as error:
            if error.row is None:
                error.row = job.rows[0].number
            problems.append(error)
    for check in checks:
        problems.extend(check(planned))
    if problems:
        problems.sort(key=lambda p: (p.row or 0))
        raise PreflightError(problems)
    return planned
