"""Run the sheet2video command line under a Python audit hook (PEP 578).

``python tests/reliability/audited.py LOG ARGS...`` runs ``sheet2video ARGS...`` and appends one
JSON line to LOG for every file the process opens (and whether for writing), renames, removes or
changes, every folder it makes, every SQLite database it opens, every program it starts (FFmpeg's
argument list included) and every file PyAV opens (PyAV reads through libavformat, which Python's
audit events do not see). The reliability tests check those paths against the media root and the
data folder.
"""

from __future__ import annotations

import json
import os
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def main() -> None:
    log_path, args = sys.argv[1], sys.argv[2:]
    log = open(log_path, "a", encoding="utf-8", buffering=1)  # opened before the hook exists

    def path_of(value):
        if isinstance(value, int) or value is None:
            return None
        text = os.fsdecode(value)
        return text if os.path.isabs(text) else os.path.join(os.getcwd(), text)

    def record(**event) -> None:
        log.write(json.dumps(event) + "\n")

    busy = []

    def hook(event: str, hook_args: tuple) -> None:
        if busy:
            return
        busy.append(1)
        try:
            if event == "open":
                path, mode, flags = hook_args
                path = path_of(path)
                if path is not None:
                    write = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
                    record(e="open", path=path, write=write)
            elif event == "os.rename":
                record(e="write", path=path_of(hook_args[0]), op="rename-from")
                record(e="write", path=path_of(hook_args[1]), op="rename-to")
            elif event in ("os.remove", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod", "os.chown", "os.utime",
                           "os.symlink", "os.link", "shutil.rmtree", "shutil.copyfile", "shutil.move"):
                target = hook_args[1] if event in ("os.symlink", "os.link", "shutil.copyfile", "shutil.move") else hook_args[0]
                record(e="write", path=path_of(target), op=event)
            elif event == "sqlite3.connect":
                record(e="open", path=path_of(hook_args[0]), write=True)
            elif event == "subprocess.Popen":
                argv = hook_args[1]
                argv = [os.fsdecode(a) for a in argv] if isinstance(argv, (list, tuple)) else [os.fsdecode(argv)]
                record(e="exec", argv=argv)
        finally:
            busy.pop()

    sys.addaudithook(hook)

    import av

    original_open = av.open

    def audited_open(file, *a, **kw):
        if isinstance(file, (str, bytes, os.PathLike)):
            record(e="av", path=path_of(os.fspath(file)))
        return original_open(file, *a, **kw)

    av.open = audited_open

    from sheet2video.cli import cli

    cli.main(args=args, prog_name="sheet2video")


if __name__ == "__main__":
    main()
