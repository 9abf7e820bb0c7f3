"""The planner's seeded spread of a job's texts and files over its outputs: every item used
before any repeats. It takes the job's ``random.Random``; the order of the calls is part of the
result. (Which media each output shows is the editor's choice: engine/timeline/editor.py.)"""

from __future__ import annotations

import random

__all__ = ["spread"]


def spread(items: list, count: int, rng: random.Random) -> list:
    """``count`` picks that use every item before repeating any (titles, scripts, music…)."""
    if not items:
        return []
    out: list = []
    while len(out) < count:
        batch = list(items)
        rng.shuffle(batch)
        out += batch
    return out[:count]
