"""sheet2video: campaign spreadsheets to finished videos through the IMS batch API."""

from sheet2video.errors import (
    ConfigError,
    ImsError,
    LockedError,
    PreflightError,
    RenderError,
    Sheet2VideoError,
    SheetError,
    TemplateError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ImsError",
    "LockedError",
    "PreflightError",
    "RenderError",
    "Sheet2VideoError",
    "SheetError",
    "TemplateError",
    "ValidationError",
    "__version__",
]
