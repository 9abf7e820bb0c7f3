"""The files a save touches: reading, Excel's lock files, the backup, the results copy, and the
atomic replace (temp file in the same folder, fsync, ``os.replace``, fsync of the folder)."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path
from typing import Callable

from sheet2video.errors import SheetError

__all__ = [
    "state_dir",
    "Changed",
    "read_bytes",
    "lock_file",
    "backup_path",
    "results_path",
    "remove_leftover_temps",
    "commit",
    "write_atomically",
]


def state_dir(sheet_path: Path) -> Path:
    """The folder next to a sheet where sheet2video keeps what it knows of it: the ledger, the
    plan-time probe cache, the embedded engine and cloud runs' upload state."""
    return sheet_path.resolve().parent / ".sheet2video"


class Changed(Exception):
    """The file changed (or Excel opened it) while we worked on it: start again."""


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SheetError(f"{path}: cannot read the file ({error.strerror or error})") from None


def lock_file(path: Path) -> Path | None:
    """Excel's owner file ``~$name`` (or LibreOffice's ``.~lock.name#``) beside ``path``."""
    for lock in (path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")):
        if lock.exists():
            return lock
    return None


def backup_path(target: Path) -> Path:
    """Where a save keeps what ``target`` held before: ``<stem>.bak<ext>``."""
    return target.with_name(f"{target.stem}.bak{target.suffix}")


def results_path(sheet: Path) -> Path:
    """The results copy written when the sheet itself cannot be: ``<stem>.results<ext>``."""
    return sheet.with_name(f"{sheet.stem}.results{sheet.suffix}")


def remove_leftover_temps(path: str | os.PathLike) -> list[Path]:
    """Delete the hidden ``.<name>.XXXXXXXX.tmp`` copies a killed save left next to the sheet (of the
    sheet, its results copy or their backups); return them. Call it only while holding the sheet's
    lock (``ledger.SheetLock``): then no save of this sheet is under way."""
    real = Path(path).resolve()
    saved = [f for target in (real, results_path(real)) for f in (target, backup_path(target))]
    leftovers = [p for f in saved for p in real.parent.glob(f".{glob.escape(f.name)}.*.tmp")]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


def commit(target: Path, data: bytes, expected: bytes | None, watch: Path | None, mode: int,
           back_up: Callable[[], Path] | None = None) -> Path | None:
    """Call ``back_up`` (it keeps what ``target`` holds and returns where), then replace ``target``
    atomically with ``data``. Returns the backup path.

    ``expected`` is what ``target`` held when it was read (None: it did not exist); if it has
    changed since, or Excel opened ``watch`` meanwhile, raise Changed and leave the file as is.
    """
    backup = None
    try:
        if back_up is not None:
            backup = back_up()

        def still_as_read() -> None:
            current = target.read_bytes() if target.exists() else None
            if current != expected or (watch is not None and lock_file(watch) is not None):
                raise Changed()

        _replace_with(target, data, mode, still_as_read)
    except OSError as error:
        raise SheetError(
            f"{target}: cannot write the file ({error.strerror or error}); is it open in another program?"
        ) from None
    return backup


def write_atomically(dest: Path, data: bytes, mode: int) -> None:
    """Replace ``dest`` with ``data`` all at once (raises OSError)."""
    _replace_with(dest, data, mode, lambda: None)


def _replace_with(dest: Path, data: bytes, mode: int, check: Callable[[], None]) -> None:
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(name, mode)
        check()
        os.replace(name, dest)
    except BaseException:
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(dest.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; NTFS journals the rename itself
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
