"""The ledger: what was submitted for each job of a sheet, committed before and after every submit.

It lives next to the sheet (``.sheet2video/<sheet file>.ledger.sqlite3``) and is what makes a
rerun safe: a job is written as ``Submitting`` with its ClientToken *before* the request leaves,
and with its JobId right after. A crash in between leaves ``Submitting``; the next run sends the
same ClientToken again, which IMS (and the local engine) answer with the same JobId — so no row is
ever billed twice. Secrets are never stored here.

``SheetLock`` keeps two runs off one sheet: an OS file lock, released by the kernel even when the
process is killed.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sheet2video.cloud.timestamps import format_timestamp as now_iso
from sheet2video.locks import ExclusiveLock
from sheet2video.sheets.files import state_dir

__all__ = [
    "FINAL",
    "SCHEMA",
    "SUBMITTING",
    "Entry",
    "Ledger",
    "SheetLock",
    "ledger_path",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    backend       TEXT NOT NULL,
    job_key       TEXT NOT NULL,
    rows          TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    client_token  TEXT NOT NULL,
    job_id        TEXT,
    status        TEXT NOT NULL,
    videos        TEXT NOT NULL DEFAULT '[]',
    media_ids     TEXT NOT NULL DEFAULT '[]',
    durations     TEXT NOT NULL DEFAULT '[]',
    error         TEXT NOT NULL DEFAULT '',
    details       TEXT NOT NULL DEFAULT '[]',
    submitted_at  TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (backend, job_key)
);
CREATE TABLE IF NOT EXISTS skipped_rows (
    row           INTEGER PRIMARY KEY,
    job_key       TEXT NOT NULL,
    reason        TEXT NOT NULL
);
"""

SUBMITTING = "Submitting"
FINAL = ("Finished", "Failed")




def ledger_path(sheet_path: Path, *, preview: bool = False) -> Path:
    """The sheet's ledger; ``run --preview`` keeps its own, so a preview never counts as done."""
    return state_dir(sheet_path) / f"{sheet_path.name}{'.preview' if preview else ''}.ledger.sqlite3"


@dataclass
class Entry:
    backend: str
    job_key: str
    rows: list[int]
    content_hash: str
    attempt: int
    client_token: str
    job_id: str | None
    status: str
    videos: list[str] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    error: str = ""
    # one object per video asked for, in order: Status, Video, Duration, Title, Speech, Voice, Error… (the report)
    details: list[dict] = field(default_factory=list)
    submitted_at: str | None = None
    updated_at: str = ""

    @property
    def final(self) -> bool:
        return self.status in FINAL


class Ledger:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed submit must survive a power cut
        self._db.executescript(SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(jobs)")}
        if "details" not in columns:  # a ledger written before the report existed
            self._db.execute("ALTER TABLE jobs ADD COLUMN details TEXT NOT NULL DEFAULT '[]'")

    @classmethod
    def for_sheet(cls, sheet_path: Path, *, preview: bool = False) -> Ledger:
        return cls(ledger_path(sheet_path, preview=preview))

    def close(self) -> None:
        self._db.close()

    def get(self, backend: str, job_key: str) -> Entry | None:
        row = self._db.execute("SELECT * FROM jobs WHERE backend = ? AND job_key = ?", (backend, job_key)).fetchone()
        return _entry(row) if row else None

    def all(self, backend: str | None = None) -> list[Entry]:
        """The jobs of one backend, or (None) of every backend this sheet was run on."""
        if backend is None:
            return [_entry(r) for r in self._db.execute("SELECT * FROM jobs ORDER BY rowid").fetchall()]
        rows = self._db.execute("SELECT * FROM jobs WHERE backend = ? ORDER BY rowid", (backend,)).fetchall()
        return [_entry(r) for r in rows]

    def mark_skipped(self, skipped: list[tuple[int, str, str]], active: set[int]) -> None:
        """(row, key, reason) of the rows this run left out (``enabled = no``); rows it planned or
        skipped are forgotten first, so a row switched on again loses its mark (the report reads this)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("DELETE FROM skipped_rows WHERE row = ?", [(n,) for n in active | {n for n, _, _ in skipped}])
            self._db.executemany("INSERT INTO skipped_rows (row, job_key, reason) VALUES (?, ?, ?)", skipped)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def skipped(self) -> list[tuple[int, str, str]]:
        return [tuple(r) for r in self._db.execute("SELECT row, job_key, reason FROM skipped_rows ORDER BY row")]

    def begin_submit(self, backend: str, job_key: str, rows: list[int], content_hash: str, attempt: int, token: str) -> None:
        """Record the intent to submit (before the request leaves)."""
        stamp = now_iso()
        self._db.execute(
            "INSERT INTO jobs (backend, job_key, rows, content_hash, attempt, client_token, job_id, status, videos,"
            " media_ids, durations, error, submitted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, '[]', '[]', '[]', '', ?, ?)"
            " ON CONFLICT (backend, job_key) DO UPDATE SET rows = excluded.rows, content_hash = excluded.content_hash,"
            " attempt = excluded.attempt, client_token = excluded.client_token, job_id = NULL, status = excluded.status,"
            " videos = '[]', media_ids = '[]', durations = '[]', error = '', details = '[]', submitted_at = excluded.submitted_at,"
            " updated_at = excluded.updated_at",
            (backend, job_key, json.dumps(rows), content_hash, attempt, token, SUBMITTING, stamp, stamp),
        )

    def submitted(self, backend: str, job_key: str, job_id: str) -> None:
        self._db.execute(
            "UPDATE jobs SET job_id = ?, status = 'Init', updated_at = ? WHERE backend = ? AND job_key = ?",
            (job_id, now_iso(), backend, job_key),
        )

    def update(self, backend: str, job_key: str, *, status: str, videos: list[str] | None = None,
               media_ids: list[str] | None = None, durations: list[float] | None = None, error: str = "",
               details: list[dict] | None = None) -> None:
        self._db.execute(
            "UPDATE jobs SET status = ?, videos = COALESCE(?, videos), media_ids = COALESCE(?, media_ids),"
            " durations = COALESCE(?, durations), error = ?, details = COALESCE(?, details), updated_at = ?"
            " WHERE backend = ? AND job_key = ?",
            (status, _dump(videos), _dump(media_ids), _dump(durations), error, _dump(details), now_iso(), backend, job_key),
        )


def _dump(value: list | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _entry(row: sqlite3.Row) -> Entry:
    data = dict(row)
    for name in ("rows", "videos", "media_ids", "durations", "details"):
        data[name] = json.loads(data[name])
    return Entry(**data)


def SheetLock(sheet_path: Path) -> ExclusiveLock:  # noqa: N802 (used like the class it was)
    """An exclusive, non-blocking lock on one sheet; LockedError when another run holds it."""
    return ExclusiveLock(state_dir(sheet_path) / f"{sheet_path.name}.lock", "another run is working on this sheet")
