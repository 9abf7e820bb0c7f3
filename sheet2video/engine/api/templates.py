"""Batch templates (reference §2.10): AddTemplate, GetTemplate, ListTemplates, UpdateTemplate,
DeleteTemplate, stored in the engine's SQLite; and applying one in a Submit.

A template's ``Config`` is ``{"InputTemplateConfig", "EditingTemplateConfig", "OutputTemplateConfig"}``
(the output part required). A Submit's ``TemplateConfig`` is a JSON list of template ids: one is
picked per job, seeded by the submission itself (the same submission always picks the same
template), and each part goes *under* the job's own config of that name — the job's keys win,
objects merge key by key, lists are replaced whole. A template field the engine would not render
is refused (``InvalidParameter`` naming it) when the template is added, not found out at render time.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any, Callable

from sheet2video.errors import ImsError
from sheet2video.cloud.checks import check_params
from sheet2video.cloud.models import EditingConfig, InputConfig, OutputConfig

__all__ = [
    "TEMPLATE_TYPE",
    "STATUSES",
    "SOURCES",
    "PARTS",
    "bad",
    "merge_under",
    "parse_config",
    "pick_template",
    "template_ids",
    "apply",
    "Templates",
]

TEMPLATE_TYPE = "BatchEditing"  # the only template type this feature uses (Timeline templates are another product)
STATUSES = ("Available", "Created", "Uploading", "Processing", "UploadFailed", "ProcessFailed")
SOURCES = ("OpenAPI", "AliyunConsole", "WebSDK")
# Template part → the job parameter it goes under, and the keys a template may set there
# (per-job keys such as the media to cut, MediaURL and Count stay the job's own).
PARTS: dict[str, tuple[str, frozenset[str]]] = {
    "InputTemplateConfig": ("InputConfig", frozenset({"StickerArray", "BackgroundMusicArray", "BackgroundImageArray"})),
    "EditingTemplateConfig": ("EditingConfig", frozenset(EditingConfig.model_fields)),
    "OutputTemplateConfig": ("OutputConfig", frozenset(OutputConfig.model_fields) - {"MediaURL", "Count", "GeneratePreviewOnly"}),
}
# A stand-in job the template parts are checked inside (its own fields are never reported).
_PLACEHOLDER = {"InputConfig": {"MediaArray": ["placeholder.mp4"]},
                "OutputConfig": {"MediaURL": "template-check/{index}.mp4", "Count": 1}}
assert set(PARTS["InputTemplateConfig"][1]) <= set(InputConfig.model_fields)


def bad(message: str, code: str = "InvalidParameter", status: int = 400) -> ImsError:
    return ImsError(code, message, http_status=status)


def merge_under(base: Any, own: Any) -> Any:
    """``own`` over ``base``: objects merge key by key (own wins), anything else is own's."""
    if isinstance(base, dict) and isinstance(own, dict):
        out = dict(base)
        for key, value in own.items():
            out[key] = merge_under(base.get(key), value)
        return out
    return base if own is None else own


def parse_config(text: str | None) -> dict[str, Any]:
    """A template ``Config`` checked to the field: every problem named, or the parsed object."""
    if not text:
        raise bad("Config is mandatory for this action.", "MissingConfig")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise bad(f"Config is not valid JSON: {error.msg} at position {error.pos}.") from None
    if not isinstance(config, dict):
        raise bad("Config must be a JSON object with InputTemplateConfig, EditingTemplateConfig, OutputTemplateConfig.")
    problems = [f"Config.{k}: not a batch template part" for k in config if k not in PARTS]
    if "OutputTemplateConfig" not in config:
        problems.append("Config.OutputTemplateConfig: is required")
    job = {k: dict(v) for k, v in _PLACEHOLDER.items()}
    renames: dict[str, str] = {}
    for part, (parameter, allowed) in PARTS.items():
        value = config.get(part)
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(f"Config.{part}: must be a JSON object")
            continue
        problems += [f"Config.{part}.{k}: not a field a batch template can set here" for k in value if k not in allowed]
        job[parameter] = merge_under(value, job.get(parameter))
        renames.update({f"{parameter}.{k}": f"Config.{part}.{k}" for k in value})
    for issue in check_params(job):
        # errors, and fields the engine would not render ("sent as is"): a template must be honoured whole
        if issue.level != "error" and not issue.message.endswith("(sent as is)"):
            continue
        for prefix, renamed in renames.items():
            if issue.path == prefix or issue.path.startswith((prefix + ".", prefix + "[")):
                problems.append(renamed + issue.path[len(prefix):] + ": " + issue.message)
                break
    if problems:
        raise bad("; ".join(problems[:10]))
    return config


def pick_template(ids: list[str], seed_text: str) -> str:
    """One of ``ids``, the same for the same submission (seed: a hash of its parameters)."""
    seed = int.from_bytes(hashlib.sha256(seed_text.encode("utf-8")).digest()[:8], "big")
    return random.Random(seed).choice(ids)


def template_ids(value: Any) -> list[str]:
    """A Submit's ``TemplateConfig``: a list of template ids (one id alone is accepted as a list)."""
    ids = [value] if isinstance(value, str) else value
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i.strip() for i in ids):
        raise bad("TemplateConfig must be a JSON list of template ids, e.g. [\"<TemplateId>\"].",
                  "InvalidParameter.TemplateConfig")
    return [i.strip() for i in ids]


def apply(params: dict[str, Any], extend_input: str | None) -> dict[str, Any]:
    """The job's parsed configs with the template it picked (stored in ExtendInput) underneath."""
    if not extend_input:
        return params
    config = (json.loads(extend_input) or {}).get("TemplateConfig") or {}
    out = dict(params)
    for part, (parameter, _) in PARTS.items():
        if config.get(part):
            out[parameter] = merge_under(config[part], params.get(parameter))
    return out


class Templates:
    """The five template actions over the engine's store."""

    def __init__(self, store):
        self.store = store

    def actions(self) -> dict[str, Callable[[str, dict[str, str]], dict[str, Any]]]:
        return {"AddTemplate": self.add, "GetTemplate": self.get, "ListTemplates": self.list,
                "UpdateTemplate": self.update, "DeleteTemplate": self.delete}

    # ------------------------------------------------------------ Submit

    def for_submit(self, parsed: dict[str, Any], seed_text: str) -> tuple[dict[str, Any], str | None]:
        """(the configs to check and plan, the ExtendInput to store) for a Submit's TemplateConfig."""
        if parsed.get("TemplateConfig") in (None, [], ""):
            return parsed, None
        ids = template_ids(parsed["TemplateConfig"])
        missing = [i for i in ids if self.store.template(i) is None]
        if missing:
            raise bad(f"TemplateConfig: the specified template not found: {', '.join(missing)}.",
                      "InvalidParameter.TemplateConfig", 404)
        chosen = self.store.template(pick_template(ids, seed_text))
        extend = json.dumps({"TemplateId": chosen["template_id"], "TemplateConfig": json.loads(chosen["config"])},
                            ensure_ascii=False)
        return apply(parsed, extend), extend

    # ------------------------------------------------------------ actions

    def add(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        name = (params.get("Name") or "").strip()
        if not name:
            raise bad("Name is mandatory for this action.", "MissingName")
        if params.get("Type") != TEMPLATE_TYPE:
            raise bad(f"Type must be {TEMPLATE_TYPE} (the engine keeps batch templates only).", "InvalidParameter.Type")
        fields = self._fields(params, require_config=True)
        fields.update(name=name, type=TEMPLATE_TYPE)
        fields.setdefault("status", "Available")
        template_id = self.store.add_template(fields)
        row = self.store.template(template_id)
        body = {k: v for k, v in self._shape(row).items() if k in _ADD_FIELDS}
        if row["cover_url"]:
            body["CoverUrl"] = row["cover_url"]
        return {"Template": body}

    def get(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        return {"Template": self._shape(self._existing(params.get("TemplateId")))}

    def list(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        page, size = _int(params, "PageNo", 1, 1, 10**6), _int(params, "PageSize", 20, 1, 100)
        sort = params.get("SortType") or "CreationTime:Desc"
        if sort not in ("CreationTime:Desc", "CreationTime:Asc"):
            raise bad("SortType must be CreationTime:Desc or CreationTime:Asc.", "InvalidParameter.SortType")
        if params.get("Type") and params["Type"] != TEMPLATE_TYPE:
            return {"Templates": [], "TotalCount": 0}
        rows, total = self.store.list_templates(type_=params.get("Type"), status=params.get("Status"),
                                                keyword=params.get("Keyword"), ascending=sort.endswith("Asc"),
                                                offset=(page - 1) * size, limit=size, source=params.get("CreateSource"))
        return {"Templates": [self._shape(r) for r in rows], "TotalCount": total}

    def update(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        row = self._existing(params.get("TemplateId"))
        fields = self._fields(params, require_config=False)
        if "source" in fields:  # an update's Source is who modified it; who created it stays
            fields["modified_source"] = fields.pop("source")
        if "Name" in params:
            if not params["Name"].strip():
                raise bad("Name may not be empty.", "InvalidParameter.Name")
            fields["name"] = params["Name"].strip()
        self.store.update_template(row["template_id"], fields)
        return {}

    def delete(self, key_id: str, params: dict[str, str]) -> dict[str, Any]:
        ids = [i.strip() for i in (params.get("TemplateIds") or "").split(",") if i.strip()]
        if not ids:
            raise bad("TemplateIds is mandatory for this action.", "MissingTemplateIds")
        missing = [i for i in ids if self.store.template(i) is None]
        if missing:  # nothing deleted: a typo in one id must not half-apply
            raise bad(f"The specified template not found: {', '.join(missing)}.", "InvalidParameter.TemplateId", 404)
        self.store.delete_templates(ids)
        return {}

    # ------------------------------------------------------------ helpers

    def _existing(self, template_id: str | None) -> dict[str, Any]:
        row = self.store.template(template_id or "") if template_id else None
        if row is None:
            raise bad(f"The specified template not found: {template_id!r}.", "InvalidParameter.TemplateId", 404)
        return row

    @staticmethod
    def _fields(params: dict[str, str], require_config: bool) -> dict[str, Any]:
        if params.get("RelatedMediaids"):
            raise bad("RelatedMediaids: not kept by this engine (its templates reference media by URL or MediaId "
                      "inside Config).", "InvalidParameter.RelatedMediaids")
        fields: dict[str, Any] = {}
        if require_config or "Config" in params:
            config = parse_config(params.get("Config"))
            fields["config"] = json.dumps(config, ensure_ascii=False)
        if params.get("Status"):
            if params["Status"] not in STATUSES:
                raise bad(f"Status must be one of {', '.join(STATUSES)}.", "InvalidParameter.Status")
            fields["status"] = params["Status"]
        if params.get("Source"):
            if params["Source"] not in SOURCES:
                raise bad(f"Source must be one of {', '.join(SOURCES)}.", "InvalidParameter.Source")
            fields["source"] = params["Source"]
        for name, column in (("CoverUrl", "cover_url"), ("PreviewMedia", "preview_media")):
            if name in params:
                fields[column] = params[name]
        return fields

    @staticmethod
    def _shape(row: dict[str, Any]) -> dict[str, Any]:
        """GetTemplate's / ListTemplates' ``Template`` fields the engine can fill."""
        source = row["source"] or "OpenAPI"
        body = {"TemplateId": row["template_id"], "Name": row["name"], "Type": row["type"], "Config": row["config"],
                "Status": row["status"], "CreateSource": source, "ModifiedSource": row["modified_source"] or source,
                "CreationTime": row["creation_time"], "ModifiedTime": row["modified_time"]}
        if row["cover_url"]:
            body["CoverURL"] = row["cover_url"]
        if row["preview_media"]:
            body["PreviewMedia"] = row["preview_media"]
        return body


# AddTemplate's model: no times, and the cover spelt CoverUrl.
_ADD_FIELDS = ("TemplateId", "Name", "Type", "Config", "Status", "CreateSource", "ModifiedSource", "PreviewMedia")


def _int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad(f"{name} must be an integer.", f"InvalidParameter.{name}") from None
    if not low <= value <= high:
        raise bad(f"{name} must be between {low} and {high}.", f"InvalidParameter.{name}")
    return value
