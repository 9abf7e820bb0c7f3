"""An exclusive, non-blocking OS file lock: released by the kernel even when the holder is killed.

Used to keep two runs off one sheet (``ledger.SheetLock``) and two engines off one data folder.
The holder's pid is written into the lock file so the refusal can name it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sheet2video.errors import ConfigError, LockedError

__all__ = ["ExclusiveLock"]


class ExclusiveLock:
    """``with ExclusiveLock(path, "another run is working on this sheet"):`` — or ``acquire()`` /
    ``release()`` for a lock held as long as an object lives. Raises LockedError ``busy (pid N); …``."""

    def __init__(self, path: Path, busy: str, advice: str = "try again when it ends"):
        self.path = path
        self.busy = busy
        self.advice = advice
        self._fd: int | None = None

    def acquire(self) -> ExclusiveLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:  # a read-only folder: say so in one line, before anything is sent
            raise ConfigError(f"cannot write in {self.path.parent} ({error.strerror or error}); sheet2video keeps its"
                              " state next to the sheet: put the sheet in a folder you can write") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip()
            os.close(fd)
            raise LockedError(f"{self.busy}{f' (pid {holder})' if holder else ''}; {self.advice}") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ExclusiveLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
