"""IMS timestamps (``yyyy-MM-ddTHH:mm:ssZ``, UTC): writing them, and checking a signed one.

The same format serves ``x-acs-date``, the V2 ``Timestamp`` parameter and the times IMS answers
with, which is why the engine and the ledger take :func:`format_timestamp` from here too.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sheet2video.cloud.signature_errors import SignatureError

__all__ = ["TIMESTAMP_FORMAT", "check_timestamp", "format_timestamp"]

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?Z$")


def format_timestamp(when: datetime | None = None) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ`` in UTC (``x-acs-date`` and the V2 ``Timestamp``)."""
    when = when or datetime.now(timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return when.strftime(TIMESTAMP_FORMAT)


def check_timestamp(value: str | None, now: datetime | float | None = None, skew: float = 900) -> datetime:
    """Parse an ISO 8601 UTC timestamp (``2024-01-09T08:37:24Z``) and check it is within ``skew``
    seconds of ``now`` (a datetime or UNIX seconds; default: the clock). Returns it as an aware
    datetime; raises ``InvalidTimeStamp.Format`` / ``InvalidTimeStamp.Expired``."""
    m = _TS_RE.match(value or "")
    if not m:
        raise SignatureError(
            "InvalidTimeStamp.Format", "The timestamp must be ISO 8601 UTC, yyyy-MM-ddTHH:mm:ssZ."
        )
    try:
        when = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError(
            "InvalidTimeStamp.Format", "The timestamp must be ISO 8601 UTC, yyyy-MM-ddTHH:mm:ssZ."
        ) from None
    if now is None:
        now_dt = datetime.now(timezone.utc)
    elif isinstance(now, datetime):
        now_dt = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    else:
        now_dt = datetime.fromtimestamp(float(now), timezone.utc)
    if abs((now_dt - when).total_seconds()) > skew:
        raise SignatureError(
            "InvalidTimeStamp.Expired",
            f"The timestamp {value} is more than {int(skew)} s away from the server time "
            f"{format_timestamp(now_dt)}; check the clock.",
        )
    return when
