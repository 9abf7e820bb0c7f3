"""Caps on what one request may carry, checked before anything parses or stores it.

* :data:`MAX_PARAM_BYTES` (256 KiB) per parameter: a config is stored with its job and returned by
  every Get, so a 7 MiB one would cost every poll 7 MiB. The cloud's own configs are a few KiB.
* :data:`MAX_JSON_DEPTH` (64) levels of nesting in a JSON parameter, counted by a scanner that
  skips strings, before ``json.loads``: ``[`` × 100000 would otherwise raise RecursionError deep in
  the decoder (or in whatever walks the result). No IMS config is nested more than ~6 levels.

Both answer 400 ``InvalidParameter`` naming the parameter.
"""

from __future__ import annotations

import re
from typing import Mapping

from sheet2video.engine.api.store import JOB_FIELDS
from sheet2video.errors import ImsError

__all__ = ["MAX_PARAM_BYTES", "MAX_JSON_DEPTH", "JSON_PARAMETERS", "nesting_exceeds", "check_params_size"]

MAX_PARAM_BYTES = 256 * 2**10
MAX_JSON_DEPTH = 64
# the parameters that carry JSON: a job's configs, and a template's Config (AddTemplate, UpdateTemplate)
JSON_PARAMETERS = (*JOB_FIELDS, "Config")
_SPECIAL = re.compile(r'[\[\]{}"\\]')


def nesting_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside JSON strings nest deeper than ``limit`` (malformed text is left to json)."""
    depth, in_string, skip = 0, False, -1
    for match in _SPECIAL.finditer(text):
        at, char = match.start(), match.group()
        if at == skip:  # the character after a backslash inside a string
            continue
        if in_string:
            if char == "\\":
                skip = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def check_params_size(params: Mapping[str, str]) -> None:
    """Refuse a request whose parameter is over :data:`MAX_PARAM_BYTES`, or whose JSON nests too deep."""
    for name, value in params.items():
        if value is None:
            continue
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_PARAM_BYTES:
            raise ImsError("InvalidParameter", f"{name[:64]} is larger than {MAX_PARAM_BYTES // 1024} KiB ({size} bytes).",
                           http_status=400)
        if name in JSON_PARAMETERS and nesting_exceeds(value):
            raise ImsError("InvalidParameter", f"{name} nests JSON more than {MAX_JSON_DEPTH} levels deep.",
                           http_status=400)
