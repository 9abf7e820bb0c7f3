"""The engine's state in SQLite: batch jobs, their sub-jobs, registered media and used nonces.

One connection guarded by a lock (the engine's threads are few and each statement is short);
WAL mode so a reader never waits for a render to finish writing. Everything a restart needs to
resume a job is here: a job still ``Init`` or ``Processing`` is picked up again on start.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sheet2video.cloud.timestamps import format_timestamp as utc_now  # IMS times: yyyy-MM-ddTHH:mm:ssZ

__all__ = ["SCHEMA", "JOB_FIELDS", "new_id", "OutputTaken", "Store", "utc_now"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          TEXT UNIQUE NOT NULL,
    client_token    TEXT,
    key_id          TEXT NOT NULL,
    job_type        TEXT NOT NULL,
    status          TEXT NOT NULL,
    input_config    TEXT,
    editing_config  TEXT,
    output_config   TEXT,
    user_data       TEXT,
    template_config TEXT,
    extend          TEXT NOT NULL DEFAULT '{}',
    create_time     TEXT NOT NULL,
    modified_time   TEXT NOT NULL,
    complete_time   TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_token ON jobs(key_id, client_token) WHERE client_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE TABLE IF NOT EXISTS subjobs (
    job_id        TEXT PRIMARY KEY,
    parent_id     TEXT NOT NULL REFERENCES jobs(job_id),
    idx           INTEGER NOT NULL,
    status        TEXT NOT NULL,
    output_path   TEXT NOT NULL,
    media_id      TEXT,
    duration      REAL,
    error_code    TEXT,
    error_message TEXT,
    warnings      TEXT, -- JSON list: the render succeeded, but an input was truncated/damaged
    used          TEXT  -- JSON object: the title, speech and voice this output got (for the report)
);
CREATE INDEX IF NOT EXISTS subjobs_parent ON subjobs(parent_id, idx);
CREATE TABLE IF NOT EXISTS media (
    media_id     TEXT PRIMARY KEY,
    input_url    TEXT NOT NULL,
    media_type   TEXT,
    title        TEXT,
    business_type TEXT,
    status       TEXT NOT NULL,
    create_time  TEXT NOT NULL,
    client_token TEXT,
    extra        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS media_url ON media(input_url);
CREATE TABLE IF NOT EXISTS templates (  -- batch templates (AddTemplate …; engine/api/templates.py)
    template_id   TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    type          TEXT NOT NULL,
    config        TEXT NOT NULL,
    status        TEXT NOT NULL,
    cover_url     TEXT,
    preview_media TEXT,
    source        TEXT,
    modified_source TEXT,
    creation_time TEXT NOT NULL,
    modified_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce   TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
"""

JOB_FIELDS = ("InputConfig", "EditingConfig", "OutputConfig", "UserData", "TemplateConfig")
_COLUMN = {
    "InputConfig": "input_config",
    "EditingConfig": "editing_config",
    "OutputConfig": "output_config",
    "UserData": "user_data",
    "TemplateConfig": "template_config",
}




def new_id() -> str:
    return uuid.uuid4().hex


class OutputTaken(Exception):
    """A Submit's output is claimed by a job that did not fail (its video is there, or will be)."""

    def __init__(self, index: int, claim: str, job_id: str):
        super().__init__(f"{claim} is job {job_id}'s output")
        self.index, self.claim, self.job_id = index, claim, job_id


class Store:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(subjobs)")}
        if "warnings" not in columns:  # a store written before warnings existed
            self._db.execute("ALTER TABLE subjobs ADD COLUMN warnings TEXT")
        if "used" not in columns:  # … or before it recorded what each output used
            self._db.execute("ALTER TABLE subjobs ADD COLUMN used TEXT")
        # later additions: a preview sub-job's editing project and its plan; the template a job applied;
        # the bucket key an output will be put at (its claim: no other job may take it)
        for table, column in (("subjobs", "project_id"), ("subjobs", "plan"), ("jobs", "extend_input"),
                              ("subjobs", "claim")):
            if column not in {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        self._db.execute("CREATE INDEX IF NOT EXISTS subjobs_claim ON subjobs(claim) WHERE claim IS NOT NULL")
        self._nonce_writes = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _execute(self, sql: str, args: tuple = ()) -> None:
        with self._lock:
            self._db.execute(sql, args)

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:  # fetch under the lock too: the connection is shared by threads
            return self._db.execute(sql, args).fetchall()

    # ------------------------------------------------------------ nonces

    def use_nonce(self, nonce: str, window: float = 1800) -> bool:
        """Record a signature nonce; False when it was already used within the window."""
        now = time.time()
        with self._lock:
            self._nonce_writes += 1
            if self._nonce_writes % 500 == 0:
                self._db.execute("DELETE FROM nonces WHERE seen_at < ?", (now - window,))
            try:
                self._db.execute("INSERT INTO nonces VALUES (?, ?)", (nonce, now))
                return True
            except sqlite3.IntegrityError:
                row = self._db.execute("SELECT seen_at FROM nonces WHERE nonce = ?", (nonce,)).fetchone()
                if row and row["seen_at"] < now - window:
                    self._db.execute("UPDATE nonces SET seen_at = ? WHERE nonce = ?", (now, nonce))
                    return True
                return False

    # ------------------------------------------------------------ jobs

    def create_job(
        self, key_id: str, client_token: str | None, job_type: str, params: dict[str, str | None], output_paths: list[str],
        *, extend_input: str | None = None, projects: bool = False, under_job: bool = False,
        claims: list[str | None] | None = None,
    ) -> tuple[str, bool]:
        """Insert a job and its sub-jobs; with a known ClientToken return the existing job instead.
        ``projects``: each sub-job gets an editing project id (engine/api/projects.py). ``under_job``: each output
        path goes under a folder named by the job id (no job can replace another's file). ``claims``:
        per output, a name (a bucket key) no other job that has not failed may hold, else OutputTaken.

        Returns (job id, created)."""
        now = utc_now()
        with self._lock:
            if client_token:
                row = self._db.execute(
                    "SELECT job_id FROM jobs WHERE key_id = ? AND client_token = ?", (key_id, client_token)
                ).fetchone()
                if row:
                    return row["job_id"], False
            job_id = new_id()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._check_claims(claims or [])
                self._db.execute(
                    "INSERT INTO jobs (job_id, client_token, key_id, job_type, status, input_config, editing_config,"
                    " output_config, user_data, template_config, create_time, modified_time, extend_input)"
                    " VALUES (?, ?, ?, ?, 'Init', ?, ?, ?, ?, ?, ?, ?, ?)",
                    (job_id, client_token, key_id, job_type, *(params.get(f) for f in JOB_FIELDS), now, now,
                     extend_input),
                )
                for index, output_path in enumerate(output_paths):
                    self._db.execute(
                        "INSERT INTO subjobs (job_id, parent_id, idx, status, output_path, project_id, claim)"
                        " VALUES (?, ?, ?, 'Init', ?, ?, ?)",
                        (new_id(), job_id, index, f"{job_id}/{output_path}" if under_job else output_path,
                         new_id() if projects else None, claims[index] if claims else None),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return job_id, True

    def _check_claims(self, claims: list[str | None]) -> None:
        for index, claim in enumerate(claims):
            if claim is None:
                continue
            row = self._db.execute("SELECT parent_id FROM subjobs WHERE claim = ? AND status != 'Failed' LIMIT 1",
                                   (claim,)).fetchone()
            if row:
                raise OutputTaken(index, claim, row["parent_id"])

    def job(self, job_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
        return dict(rows[0]) if rows else None

    def subjobs(self, job_id: str) -> list[dict[str, Any]]:
        rows = self._query("SELECT * FROM subjobs WHERE parent_id = ? ORDER BY idx", (job_id,))
        return [dict(r) for r in rows]

    def unfinished_jobs(self) -> list[str]:
        rows = self._query("SELECT job_id FROM jobs WHERE status IN ('Init', 'Processing') ORDER BY seq")
        return [r["job_id"] for r in rows]

    def set_job_status(self, job_id: str, status: str, extend: dict[str, Any] | None = None) -> None:
        now = utc_now()
        complete = now if status in ("Finished", "Failed") else None
        self._execute(
            "UPDATE jobs SET status = ?, modified_time = ?, complete_time = COALESCE(?, complete_time),"
            " extend = COALESCE(?, extend) WHERE job_id = ?",
            (status, now, complete, json.dumps(extend, ensure_ascii=False) if extend is not None else None, job_id),
        )

    def set_subjob(self, subjob_id: str, status: str, **fields: Any) -> None:
        allowed = {"media_id", "duration", "error_code", "error_message", "warnings", "used", "plan"}
        for name in ("warnings", "used"):  # stored as JSON; None when empty
            if name in fields:
                fields[name] = json.dumps(fields[name], ensure_ascii=False) if fields[name] else None
        sets = ", ".join(f"{k} = ?" for k in fields if k in allowed)
        values = [fields[k] for k in fields if k in allowed]
        self._execute(
            f"UPDATE subjobs SET status = ?{', ' + sets if sets else ''} WHERE job_id = ?", (status, *values, subjob_id)
        )

    def list_jobs(
        self,
        *,
        job_id: str | None = None,
        job_type: str | None = None,
        status: str | None = None,
        start_time: str | None = None,
        end_time: str | None = None,
        ascending: bool = False,
        after_seq: int | None = None,
        limit: int = 10,
    ) -> list[dict[str, Any]]:
        where, args = _equal_to((("job_id", job_id), ("job_type", job_type), ("status", status)))
        if start_time:
            where.append("create_time >= ?")
            args.append(start_time)
        if end_time:
            where.append("create_time <= ?")
            args.append(end_time)
        if after_seq is not None:
            where.append("seq > ?" if ascending else "seq < ?")
            args.append(after_seq)
        sql = "SELECT * FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY seq {'ASC' if ascending else 'DESC'} LIMIT ?"
        args.append(limit)
        return [dict(r) for r in self._query(sql, tuple(args))]

    def count_jobs(self) -> int:
        return self._query("SELECT COUNT(*) FROM jobs")[0][0]

    # ------------------------------------------------------------ media

    def register_media(self, input_url: str, media_type: str, *, title: str | None, business_type: str | None,
                       client_token: str | None, overwrite: bool = False, extra: dict | None = None) -> str:
        with self._lock:
            existing = self._db.execute("SELECT media_id FROM media WHERE input_url = ?", (input_url,)).fetchone()
            if existing and not overwrite:
                return existing["media_id"]
            if existing:
                self._db.execute("DELETE FROM media WHERE media_id = ?", (existing["media_id"],))
            media_id = new_id()
            self._db.execute(
                "INSERT INTO media VALUES (?, ?, ?, ?, ?, 'Normal', ?, ?, ?)",
                (media_id, input_url, media_type, title, business_type, utc_now(), client_token,
                 json.dumps(extra or {}, ensure_ascii=False)),
            )
            return media_id

    def media(self, media_id: str | None = None, input_url: str | None = None) -> dict[str, Any] | None:
        if media_id:
            rows = self._query("SELECT * FROM media WHERE media_id = ?", (media_id,))
        else:
            rows = self._query("SELECT * FROM media WHERE input_url = ?", (input_url,))
        return dict(rows[0]) if rows else None

    # ------------------------------------------------------------ editing projects (engine/api/projects.py)

    def subjob_by_project(self, project_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM subjobs WHERE project_id = ?", (project_id,))
        return dict(rows[0]) if rows else None

    # ------------------------------------------------------------ batch templates

    def add_template(self, fields: dict[str, Any]) -> str:
        template_id, now = new_id(), utc_now()
        self._execute(
            "INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (template_id, fields["name"], fields["type"], fields["config"], fields["status"], fields.get("cover_url"),
             fields.get("preview_media"), fields.get("source"), fields.get("source"), now, now),
        )
        return template_id

    def template(self, template_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM templates WHERE template_id = ?", (template_id,))
        return dict(rows[0]) if rows else None

    def update_template(self, template_id: str, fields: dict[str, Any]) -> None:
        columns = [k for k in ("name", "config", "status", "cover_url", "preview_media", "modified_source") if k in fields]
        sets = "".join(f"{c} = ?, " for c in columns)
        self._execute(f"UPDATE templates SET {sets}modified_time = ? WHERE template_id = ?",
                      (*(fields[c] for c in columns), utc_now(), template_id))

    def delete_templates(self, template_ids: list[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM templates WHERE template_id = ?", [(t,) for t in template_ids])

    def list_templates(self, *, type_: str | None, status: str | None, keyword: str | None, ascending: bool,
                       offset: int, limit: int, source: str | None = None) -> tuple[list[dict[str, Any]], int]:
        where, args = _equal_to((("type", type_), ("status", status), ("COALESCE(source, 'OpenAPI')", source)))
        if keyword:
            where.append("(name LIKE ? ESCAPE '\\' OR template_id = ?)")
            args += ["%" + keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", keyword]
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        total = self._query(f"SELECT COUNT(*) FROM templates{sql_where}", tuple(args))[0][0]
        rows = self._query(f"SELECT * FROM templates{sql_where} ORDER BY creation_time {'ASC' if ascending else 'DESC'},"
                           f" rowid {'ASC' if ascending else 'DESC'} LIMIT ? OFFSET ?", (*args, limit, offset))
        return [dict(r) for r in rows], total


def _equal_to(filters) -> tuple[list[str], list[Any]]:
    """WHERE terms and their arguments for the (column, value) filters that are given."""
    given = [(column, value) for column, value in filters if value]
    return [f"{column} = ?" for column, _ in given], [value for _, value in given]
