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
from sheet2video.plan.templating import TemplateSet, split_lines

MEDIA_PREFIX = "media:"
FALSE_WORDS = {"no", "n", "false", "0", "off", "skip", "disabled", "否"}
TRUE_WORDS = {"yes", "y", "true", "1", "on", "enabled", "是", ""}
_UNSAFE_NAME = re.compile(r"[^\w.-]+")
# what a spreadsheet shows for a formula that failed: never content for a video
EXCEL_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}


class RowView:
    """What a template sees of one row: typed accessors that name the row and column on error.

    A bad cell does not stop the rendering: the error is collected in ``problems`` and the
    column's default is used, so one preflight reports every bad cell of every row at once.
    """

    # the methods templates may call (the sandbox calls exactly these without its generic checks)
    template_api = frozenset({"has", "text", "lines", "number", "integer", "flag", "media_groups"})

    def __init__(self, row: Row, headers: list[str], problems: list[SheetError] | None = None):
        self._row = row
        self._headers = headers
        self.problems = problems if problems is not None else []
        self.sheet_row = row.number  # the spreadsheet row number

    def _bad(self, column: str, message: str, default: Any) -> Any:
        self.problems.append(SheetError(message, row=self.sheet_row, column=column))
        return default

    def _cell(self, column: str) -> str:
        value = self._row.get(column)
        if value.strip().upper() in EXCEL_ERRORS:
            problem = SheetError(f"holds the spreadsheet error {value.strip()} (a formula that failed); fix or clear the cell",
                                 row=self.sheet_row, column=column)
            if not any(str(p) == str(problem) for p in self.problems):
                self.problems.append(problem)
            return ""
        return value

    def has(self, column: str) -> bool:
        return bool(self._cell(column).strip())

    def text(self, column: str, default: str = "") -> str:
        value = self._cell(column).strip()
        return value if value else default

    def lines(self, column: str) -> list[str]:
        return split_lines(self._cell(column))

    def number(self, column: str, default: float | int | None = None) -> float | int | None:
        raw = self._cell(column).strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):
            return self._bad(column, f"expected a number, got {raw!r}", default)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value

    def integer(self, column: str, default: int | None = None) -> int | None:
        value = self.number(column, default)
        if value is None or isinstance(value, int):
            return value
        return self._bad(column, f"expected a whole number, got {self._row.get(column).strip()!r}", default)

    def flag(self, column: str, default: bool = True) -> bool:
        raw = self._cell(column).strip().lower()
        if not raw:
            return default
        if raw in FALSE_WORDS:
            return False
        if raw in TRUE_WORDS:
            return True
        return self._bad(column, f"expected yes or no, got {raw!r}", default)

    def cells(self, columns: tuple[str, ...], media: bool) -> tuple:
        """The raw cells of ``columns`` (and of every media:<Group> column): a render_memo key."""
        values = self._row.values
        key = tuple(values.get(c, "") for c in columns)
        if media:
            key += tuple((h, values.get(h.lower(), "")) for h in self._headers if h.lower().startswith(MEDIA_PREFIX))
        return key

    def media_groups(self) -> list[tuple[str, list[str]]]:
        """(group name, media refs) for each ``media:<Group>`` column, in column order."""
        groups = []
        for header in self._headers:
            if header.lower().startswith(MEDIA_PREFIX):
                name = header[len(MEDIA_PREFIX) :].strip()
                media = self.lines(header)
                if media:
                    groups.append((name, media))
        return groups


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
    views = [RowView(r, sheet.headers, cell_problems) for r in job.rows]
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
    warnings = [str(locate(i.path, i.message, job.rows, sheet, template_set, parsed)) for i in issues if i.level == "warning"]
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
    from sheet2video.plan.columns import unknown_columns  # it reads RowView from here

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
