import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def write_csv(tmp_path):
    """Write CSV text (exactly as given, e.g. with a BOM or CRLF) and return the path."""

    def write(text: str, name: str = "campaign.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.fixture
def write_xlsx(tmp_path):
    """Write rows (first = header) to an .xlsx with openpyxl and return the path."""

    def write(rows, name: str = "campaign.xlsx", title: str = "Campaign") -> Path:
        import openpyxl

        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = title
        for row in rows:
            sheet.append(list(row))
        path = tmp_path / name
        workbook.save(path)
        return path

    return write


# Sheets in these tests name media files that do not exist (they test templating and validation), or
# test the engine's render-time refusals of bad files (everything under tests/engine/): plan-time probing
# (tests/plan/test_media_preflight.py) would stop them first. SHEET2VIDEO_NO_PROBE is the documented escape hatch.
_SHEETS_WITHOUT_REAL_MEDIA = {"plan/test_campaign.py", "reliability/test_bad_input.py"}


@pytest.fixture(autouse=True, scope="module")  # module scope: before the modules' own module fixtures run the CLI
def _no_plan_time_probe(request):
    place = request.path.relative_to(ROOT / "tests")
    if place.as_posix() not in _SHEETS_WITHOUT_REAL_MEDIA and place.parts[0] != "engine":
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHEET2VIDEO_NO_PROBE", "1")
        yield
