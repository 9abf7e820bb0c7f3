"""Ctrl+C during a run: the first press stops it cleanly, further presses are ignored meanwhile.

The submission under way finishes and is recorded (a submit call and the ledger line with its
JobId are never split: :meth:`FirstInterrupt.critical`), then :class:`Interrupted` carries one
line for the CLI (exit 130). ``block_sigint``/``restore_sigint`` block SIGINT in this thread while a child (the
embedded engine, the callback server) starts, so it is raised afterwards, never inside the start.
"""

from __future__ import annotations

import signal
import threading

__all__ = ["FirstInterrupt", "Interrupted", "block_sigint", "restore_sigint"]


class Interrupted(KeyboardInterrupt):
    """Ctrl+C stopped the run after the sheet and ledger were brought up to date; ``str`` is the line to print."""

    exit_code = 130


class FirstInterrupt:
    """SIGINT → KeyboardInterrupt once, then ignored (winding down must not be cut short); while
    ``critical`` is held the interrupt waits for it to end. Only the main thread can own signals."""

    def __init__(self):
        self.pending = False
        self.depth = 0
        self.previous = None
        self.fired = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, kind, *rest):
        if self.previous is not None and not self.fired:  # interrupted: stay deaf until the process ends
            signal.signal(signal.SIGINT, self.previous)
        return False

    def _handle(self, signum, frame):
        if self.depth:
            self.pending = True
            return
        self._fire()

    def _fire(self):
        self.fired = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    def critical(self):
        guard = self

        class _Critical:
            def __enter__(self):
                guard.depth += 1

            def __exit__(self, kind, *rest):
                guard.depth -= 1
                if not guard.depth and guard.pending and kind is None:
                    guard.pending = False
                    guard._fire()
                return False

        return _Critical()


def block_sigint():
    """Block SIGINT in this thread while it starts threads: they (the embedded engine's HTTP,
    planning and render threads, and every process they spawn — FFmpeg, fc-list, speech) inherit
    the mask. So a terminal's Ctrl+C, sent to the whole process group, reaches only the main
    thread: no helper process dies of it mid-job and gets the job recorded as Failed, and the
    main thread wakes at once instead of at its next poll. Returns the mask to restore."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def restore_sigint(mask) -> None:
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
