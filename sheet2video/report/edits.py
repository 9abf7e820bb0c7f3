"""A video's edit list in words a marketing person reads at a glance, one line per shot:
``0.0–2.2 s  Opening/clip1.mp4  1.2→3.4 s  ×1.00`` — where in the video, which group and file,
which part of the clip, at what speed; a photo is ``held 3.0 s``. A shot played faster or slower
than recorded says so (``×1.25 faster``), and a transition into the next shot is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import unquote, urlsplit

__all__ = ["SPEED_TOLERANCE", "ShotLine", "shot_line", "edit_list_html"]

SPEED_TOLERANCE = 0.005  # ×0.995–×1.005 reads as normal speed (the planner rounds to milliseconds)


@dataclass
class ShotLine:
    when: str             # "0.0–2.2 s": where in the video
    what: str             # "Opening/clip1.mp4": group and file name
    media: str            # the reference in full, as the job named it
    how: str              # "1.2→3.4 s" (the clip's part) or "held 3.0 s" (a photo)
    speed: str = ""       # "×1.00", "×1.25 faster" (videos only)
    pace: str = ""        # "fast" / "slow" / "" (normal, or a photo)
    transition: str = ""  # "fade into the next shot"

    def text(self) -> str:
        return " ".join(part for part in (self.when, self.what, self.how, self.speed, self.transition) if part)


def _name(media: str) -> str:
    """The file's name: the last part of a path or URL (no query); a media id as it is."""
    path = urlsplit(media).path if "://" in media else media
    return unquote(path.rstrip("/").rsplit("/", 1)[-1]) or media


def _s(value: float | None) -> float:
    return float(value or 0.0)


def shot_line(shot: dict) -> ShotLine:
    """One shot of ``used["Shots"]`` (report/details.py ``shots_of``) in words."""
    media = str(shot.get("Media") or "")
    start, end = _s(shot.get("TimelineIn")), _s(shot.get("TimelineOut"))
    what = f"{shot['Group']}/{_name(media)}" if shot.get("Group") else _name(media)
    line = ShotLine(f"{start:.1f}–{end:.1f} s", what, media, "")
    if (shot.get("Type") or "Video") == "Image":
        held = _s(shot.get("Out")) - _s(shot.get("In"))
        line.how = f"held {held if held > 0 else end - start:.1f} s"
    else:
        line.how = f"{_s(shot.get('In')):.1f}→{_s(shot.get('Out')):.1f} s"
        speed = _s(shot.get("Speed")) or 1.0
        line.pace = "" if abs(speed - 1) <= SPEED_TOLERANCE else "fast" if speed > 1 else "slow"
        line.speed = f"×{speed:.2f}" + {"fast": " faster", "slow": " slower", "": ""}[line.pace]
    if shot.get("Transition"):
        line.transition = f"{shot['Transition']} into the next shot"
    return line


def edit_list_html(shots: list[dict]) -> str:
    """The card's edit list: a list that can be folded, every text escaped."""
    if not shots:
        return ""
    e = escape
    items = []
    for shot in shots:
        line = shot_line(shot)
        speed = f' <span class="speed {line.pace}">{e(line.speed)}</span>' if line.speed else ""
        transition = f' <span class="tr">{e(line.transition)}</span>' if line.transition else ""
        items.append(f'<li class="shot"><span class="when">{e(line.when)}</span>'
                     f' <span class="what" title="{e(line.media)}">{e(line.what)}</span>'
                     f' <span class="how">{e(line.how)}</span>{speed}{transition}</li>')
    count = f"{len(shots)} shot{'s' if len(shots) != 1 else ''}"
    return (f'<details class="edits" open><summary>Edit list · {count}</summary>'
            f'<ol class="shots">{"".join(items)}</ol></details>')
