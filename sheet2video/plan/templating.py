"""Template sets: Jinja templates that turn a job's rows into the five IMS API parameters.

A template set is a folder holding ``input_config.json.j2`` and ``output_config.json.j2`` (both
required) and optionally ``editing_config.json.j2``, ``user_data.json.j2``,
``template_config.json.j2`` and ``manifest.json`` (how rows form jobs, see ``TemplateSet``).

Templates run in a sandboxed environment with StrictUndefined. Cell text reaches them only as
data (``row.text(...)``, ``row.lines(...)``…) and leaves them only through ``tojson``: a cell is
never template source, so ``{{ 7*7 }}`` in a cell stays that literal text.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import BuiltinMethodType, MethodType
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from sheet2video.engine.compose.layout import shares
from sheet2video.engine.speech.rate import parse_speech_rate
from sheet2video.errors import Sheet2VideoError, TemplateError
from sheet2video.plan.row_view import RowView, split_lines
from sheet2video.plan.render_memo import RenderMemo
from sheet2video.plan.template_scan import scan

__all__ = [
    "BUILTIN_DIR",
    "TEMPLATE_FILES",
    "REQUIRED",
    "builtin_sets",
    "TemplateSet",
    "prune",
    "to_json",
    "TemplateSandbox",
    "make_environment",
    "load_template_set",
]

BUILTIN_DIR = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_FILES = {
    "InputConfig": "input_config.json.j2",
    "EditingConfig": "editing_config.json.j2",
    "OutputConfig": "output_config.json.j2",
    "UserData": "user_data.json.j2",
    "TemplateConfig": "template_config.json.j2",
}
REQUIRED = ("InputConfig", "OutputConfig")


def builtin_sets() -> list[str]:
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / TEMPLATE_FILES["InputConfig"]).exists())


@dataclass
class TemplateSet:
    """A loaded template set.

    manifest.json keys (all optional):
      ``key_column``  the column naming a job (default ``id``; blank → ``row<N>``)
      ``group_by``    true: rows sharing ``key_column`` form one job, in sheet order (grouped sets)
      ``required_columns``  columns the sheet must have
      ``columns``     field path prefix → sheet column, so problems point at the right cell
    """

    name: str
    folder: Path
    key_column: str = "id"
    group_by: bool = False
    required_columns: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    templates: dict[str, jinja2.Template] = field(default_factory=dict)
    globals: dict[str, Any] = field(default_factory=dict)   # the environment's (range, dict, ...)
    memos: dict[str, RenderMemo] = field(default_factory=dict)  # parameter → memo, for templates that read only cells

    def render(self, context: dict[str, Any], row_number: int | None = None) -> dict[str, Any]:
        """Render every template; return parameter → parsed JSON (None = omitted)."""
        out: dict[str, Any] = {}
        # what Template.render does, with the globals merged into the context once for all five
        # templates instead of once per template (the merge walks a ChainMap: ~30 µs each)
        parent = {**self.globals, **context}
        row = context.get("row")
        for parameter, template in self.templates.items():
            filename = f"{self.name}/{TEMPLATE_FILES[parameter]}"
            memo = self.memos.get(parameter)
            key = memo.key(row, parent) if memo is not None and row is not None else None
            text = memo.get(key) if key is not None else None
            if text is None:
                reported = (len(row.problems), len(row.warnings)) if key is not None else None
                text = self._render_text(template, parent, filename, row_number)
                # a render that found a bad cell or warned is not kept (the next row must say it too)
                if key is not None and (len(row.problems), len(row.warnings)) == reported:
                    memo.put(key, text)
            if not text.strip():
                out[parameter] = None
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise TemplateError(
                    f"template {filename} rendered invalid JSON ({error.msg} at line {error.lineno}, "
                    f"column {error.colno} of its output; near {_excerpt(text, error.pos)!r})",
                    row=row_number,
                ) from None
            out[parameter] = value if value not in (None, {}, [], "") else None
        return out

    def _render_text(self, template: jinja2.Template, parent: dict[str, Any], filename: str, row_number: int | None) -> str:
        try:
            try:
                return template.environment.concat(template.root_render_func(template.new_context(parent, shared=True)))
            except Exception:
                template.environment.handle_exception()  # re-raised with the template's line numbers
        except Sheet2VideoError:
            raise
        except jinja2.TemplateNotFound as error:
            raise TemplateError(f"template {filename}{_line_of(error, template)}: includes {error.name!r},"
                                f" which is not a template in {self.folder}", row=row_number) from None
        except jinja2.TemplateError as error:
            raise TemplateError(f"template {filename}{_line_of(error, template)}: {error}", row=row_number) from None
        except Exception as error:  # a bug in a user template (e.g. dividing by zero)
            raise TemplateError(
                f"template {filename}{_line_of(error, template)}: {type(error).__name__}: {error}", row=row_number
            ) from None


def _line_of(error: BaseException, template: jinja2.Template) -> str:
    """' line N' of the template where a render error happened (Jinja rewrites tracebacks so we can)."""
    lineno = getattr(error, "lineno", None)
    if lineno is None:
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if frame.filename == template.filename:
                lineno = frame.lineno
                break
    return f" line {lineno}" if lineno else ""


def _excerpt(text: str, pos: int) -> str:
    return text[max(0, pos - 20) : pos + 20]


def prune(value: Any) -> Any:
    """Drop None, empty strings, lists and dicts, recursively (0 and false stay)."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if isinstance(item, (dict, list, tuple)):
                item = prune(item)
            if not _is_blank(item):
                kept[key] = item
        return kept
    if isinstance(value, (list, tuple)):
        return [item for item in (prune(v) if isinstance(v, (dict, list, tuple)) else v for v in value) if not _is_blank(item)]
    return value


def _is_blank(value: Any) -> bool:
    return value is None or (not value and isinstance(value, (str, list, dict)))


def _json_default(value: Any) -> Any:
    """tojson met something that is not JSON: name an undefined variable instead of a TypeError."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    raise TypeError(f"a {type(value).__name__} cannot be written as JSON")


def to_json(value: Any, indent: int | None = None) -> str:
    """The ``tojson`` filter: plain JSON (the output is parsed as JSON, never put in HTML, so
    Jinja's HTML escaping of < > & ' is not needed)."""
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_default)


# Plain values whose public methods the sandbox allows anyway (SandboxedEnvironment, not the
# Immutable one): their lookups and calls skip its generic checks. str.format and format_map are
# the exception the sandbox makes for them (it swaps in a sandboxed formatter): they keep the slow path.
_PLAIN = (str, dict, list)
_SANDBOXED_METHODS = frozenset({"format", "format_map"})


class TemplateSandbox(SandboxedEnvironment):
    """The sandbox, with fast paths that allow exactly what its generic checks would allow:
    the methods objects declare for templates in ``template_api`` (the row accessors, about 20
    calls a row), and the public methods of plain strings, dicts and lists (``.strip()``,
    ``.lower()``, ``.get()`` …, about 20 more). The generic checks cost more than the calls
    themselves; everything else still goes through them."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute in getattr(type(obj), "template_api", ()):
            return getattr(obj, attribute)
        if type(obj) in _PLAIN and attribute[:1] != "_" and attribute not in _SANDBOXED_METHODS:
            try:
                return getattr(obj, attribute)
            except AttributeError:  # a dict key (Jinja's obj.key); or undefined
                pass
        return super().getattr(obj, attribute)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        kind = type(__obj)
        if (kind is MethodType and __obj.__name__ in getattr(type(__obj.__self__), "template_api", ())) or (
                kind is BuiltinMethodType and type(__obj.__self__) in _PLAIN and __obj.__name__ not in _SANDBOXED_METHODS):
            kwargs.pop("_loop_vars", None)  # what Jinja passes inside loops and blocks (Context.call drops them)
            kwargs.pop("_block_vars", None)
            return __obj(*args, **kwargs)
        return super().call(__context, __obj, *args, **kwargs)


def make_environment(folder: Path) -> TemplateSandbox:
    env = TemplateSandbox(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters["tojson"] = to_json
    env.filters["lines"] = split_lines
    env.filters["prune"] = prune
    env.filters["safe_zone"] = lambda size: shares(*size)  # [width, height] → the apps' zone margins (fractions)
    env.filters["speech_rate"] = parse_speech_rate  # a speech_rate cell → SpeechRate, None (blank) or "" (bad)
    return env


def load_template_set(spec: str | Path) -> TemplateSet:
    """Load a built-in set by name (``script``, ``grouped``) or a folder of templates."""
    spec_text = str(spec)
    candidate = Path(spec_text)
    if candidate.is_dir():
        folder = candidate
        name = candidate.name
    elif (BUILTIN_DIR / spec_text).is_dir() and "/" not in spec_text:
        folder = BUILTIN_DIR / spec_text
        name = spec_text
    else:
        raise TemplateError(
            f"unknown template set {spec_text!r}: use one of {', '.join(builtin_sets())} or a folder of templates"
        )
    manifest: dict[str, Any] = {}
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise TemplateError(f"template {name}/manifest.json is not valid JSON: {error}") from None
        if not isinstance(manifest, dict):
            raise TemplateError(f"template {name}/manifest.json must hold a JSON object")
    env = make_environment(folder)

    templates, memos = {}, {}
    for parameter, filename in TEMPLATE_FILES.items():
        if not (folder / filename).exists():
            if parameter in REQUIRED:
                raise TemplateError(f"template set {name} has no {filename}")
            continue
        try:
            templates[parameter] = env.get_template(filename)
            reads = scan(env, (folder / filename).read_text(encoding="utf-8"), RowView.template_api)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"template {name}/{filename} line {error.lineno}: {error.message}") from None
        except UnicodeDecodeError:
            raise TemplateError(f"template {name}/{filename} is not UTF-8 text") from None
        if reads.closed:
            memos[parameter] = RenderMemo(reads)
    return TemplateSet(
        name=name,
        folder=folder,
        key_column=str(manifest.get("key_column", "id")).lower(),
        group_by=bool(manifest.get("group_by", False)),
        required_columns=[str(c).lower() for c in manifest.get("required_columns", [])],
        columns={str(k): str(v) for k, v in manifest.get("columns", {}).items()},
        templates=templates,
        globals=dict(env.globals),
        memos=memos,
    )
