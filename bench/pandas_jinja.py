"""The reference for ``plan_csv_vs_pandas_jinja``: what a user would write instead of
``sheet2video plan`` — pandas reads the sheet, plain jinja2 renders the same five templates per row
(the shipped ``script`` set), ``json.loads`` parses each. Written as such a script would be: the
row accessors the templates call, a ``prune`` filter, Jinja's own ``tojson``; no sandbox, no
validation against the IMS models, no per-cell error collection, no content hash or ClientToken.

``python -m bench.pandas_jinja SHEET.csv`` prints the number of jobs.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import jinja2
import pandas

from sheet2video.engine.compose.layout import shares
from sheet2video.engine.speech.rate import parse_speech_rate
from sheet2video.plan.row_view import split_blocks

TEMPLATES = Path(__file__).resolve().parent.parent / "sheet2video" / "templates" / "script"
FILES = {"InputConfig": "input_config.json.j2", "EditingConfig": "editing_config.json.j2",
         "OutputConfig": "output_config.json.j2", "UserData": "user_data.json.j2",
         "TemplateConfig": "template_config.json.j2"}


class Row:
    """The accessors the templates call, over one record (lower-cased column → cell text)."""

    def __init__(self, values: dict[str, str], headers: list[str]):
        self.values = values
        self.headers = headers  # as written: media:<Group> names the group

    def has(self, column):
        return bool(self.values.get(column, "").strip())

    def text(self, column, default=""):
        return self.values.get(column, "").strip() or default

    def lines(self, column):
        return [line.strip() for line in self.values.get(column, "").splitlines() if line.strip()]

    def blocks(self, column):
        return split_blocks(self.values.get(column, ""))

    def warn(self, column, message):  # the script a user writes keeps no warnings
        return ""

    def fail(self, column, message):
        raise ValueError(f"{column}: {message}")

    def number(self, column, default=None):
        raw = self.values.get(column, "").strip()
        if not raw:
            return default
        value = float(raw)
        return int(value) if math.isfinite(value) and value.is_integer() else value

    def integer(self, column, default=None):
        return self.number(column, default)

    def flag(self, column, default=True):
        raw = self.values.get(column, "").strip().lower()
        return default if not raw else raw not in ("no", "n", "false", "0", "off")

    def media_groups(self):
        return [(h[len("media:"):].strip(), self.lines(h.lower())) for h in self.headers
                if h.lower().startswith("media:") and self.lines(h.lower())]


def prune(value):
    """Drop None, empty strings, lists and dicts, recursively."""
    if isinstance(value, dict):
        value = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in value.items() if v is not None and v != "" and v != [] and v != {}}
    if isinstance(value, list):
        return [v for v in map(prune, value) if v is not None and v != "" and v != [] and v != {}]
    return value


def load_templates(folder: Path = TEMPLATES) -> dict[str, jinja2.Template]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), extensions=["jinja2.ext.do"])
    env.filters["prune"] = prune
    # the product's own filters the templates call: a user's script would import them too
    env.filters["safe_zone"] = lambda size: shares(*size)
    env.filters["speech_rate"] = parse_speech_rate
    return {name: env.get_template(file) for name, file in FILES.items()}


def plan(path: Path, templates: dict[str, jinja2.Template]) -> list[dict]:
    frame = pandas.read_csv(path, dtype=str, keep_default_na=False)
    headers = [c.strip() for c in frame.columns]
    names = [h.lower() for h in headers]
    jobs = []
    for values in frame.itertuples(index=False, name=None):
        row = Row(dict(zip(names, values)), headers)
        if not row.flag("enabled"):
            continue
        key = row.text("id") or f"row{len(jobs) + 2}"
        context = {"row": row, "rows": [row], "job": {"key": key, "rows": [row], "first": row},
                   "sheet": {"name": path.name, "stem": path.stem, "file": path.name},
                   "default_output": f"{path.stem}/{key}_{{index}}.mp4"}
        params = {}
        for name, template in templates.items():
            text = template.render(context)
            value = json.loads(text) if text.strip() else None
            if value:
                params[name] = value
        jobs.append({"job": key, "params": params})
    return jobs


if __name__ == "__main__":
    print(len(plan(Path(sys.argv[1]), load_templates())))
