"""sheet2video: campaign spreadsheets to finished videos through the IMS batch API."""

import os

# onnxruntime (Piper's speech) >= 1.29 sends usage telemetry to mobile.events.data.microsoft.com from
# its worker threads about a minute after inference starts; an offline product must never phone home.
# Only this variable, set before onnxruntime is imported, stops it (disable_telemetry_events() does
# not). Set here, it is in every process of ours (CLI, engine, farm workers) and their children.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

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
