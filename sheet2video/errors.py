"""The documented error hierarchy.

Every error a user can cause is a ``Sheet2VideoError``; the CLI prints ``str(error)`` as one line
and exits with ``error.exit_code``. Errors that belong to a sheet cell carry its row and column.
"""

from __future__ import annotations

__all__ = [
    "Sheet2VideoError",
    "SheetError",
    "TemplateError",
    "ValidationError",
    "PreflightError",
    "ConfigError",
    "LockedError",
    "ImsError",
    "StorageError",
    "RenderError",
]


class Sheet2VideoError(Exception):
    """Base class: a problem a user can fix. ``exit_code`` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None, field: str | None = None):
        self.message = message
        self.row = row
        self.column = column
        self.field = field  # an API field path such as OutputConfig.Width, when there is one
        super().__init__(message)

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column and self.field:
            where.append(f"{self.column} ({self.field})")
        elif self.column or self.field:
            where.append(self.column or self.field)
        return f"{', '.join(where)}: {self.message}" if where else self.message


class SheetError(Sheet2VideoError):
    """The sheet cannot be read, or a cell holds a value that cannot be used."""


class TemplateError(Sheet2VideoError):
    """A template is missing, is not valid Jinja, or renders something that is not JSON."""


class ValidationError(Sheet2VideoError):
    """A job's parameters break the IMS structure or its documented limits."""


class PreflightError(Sheet2VideoError):
    """Several problems found before anything was sent; ``problems`` holds each one."""

    def __init__(self, problems: list[Sheet2VideoError]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) found; nothing was sent")


class ConfigError(Sheet2VideoError):
    """Bad options, credentials or configuration."""


class LockedError(Sheet2VideoError):
    """Another run holds the sheet's lock."""

    exit_code = 3


class ImsError(Sheet2VideoError):
    """An error answered by IMS (or the local engine): ``code``, ``message``, ``request_id``."""

    exit_code = 4

    def __init__(self, code: str, message: str, request_id: str | None = None, http_status: int | None = None):
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        super().__init__(message)

    def __str__(self) -> str:
        rid = f" (RequestId {self.request_id})" if self.request_id else ""
        return f"{self.code}: {self.message}{rid}"


class StorageError(Sheet2VideoError):
    """Object storage (OSS/S3) answered an error or could not be reached during a transfer."""

    exit_code = 4


class RenderError(Sheet2VideoError):
    """FFmpeg or speech synthesis failed for one output; ``code`` is an IMS-style ErrorCode."""

    def __init__(self, message: str, code: str = "RenderFailed"):
        self.code = code
        super().__init__(message)
