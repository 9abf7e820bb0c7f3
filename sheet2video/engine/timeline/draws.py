"""The planner's seeded random choices that keep a job's outputs different from each other:
every item used before any repeats, distinct shot combinations, no clip twice in a row.
Each takes the job's ``random.Random``; the order of the calls is part of the result."""

from __future__ import annotations

import itertools
import math
import random

from sheet2video.engine.timeline.material import Candidate

__all__ = ["spread", "distinct_combinations", "fresh_candidate"]


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


def distinct_combinations(sizes: list[int], count: int, rng: random.Random) -> list[tuple[int, ...]]:
    """``count`` choices of one index per pool, all different while the pools allow it."""
    total = math.prod(sizes)
    if total <= 4096:
        every = list(itertools.product(*(range(n) for n in sizes)))
        rng.shuffle(every)
        return [every[i % total] for i in range(count)]
    seen: set[tuple[int, ...]] = set()
    out = []
    while len(out) < count:
        combo = tuple(rng.randrange(n) for n in sizes)
        if combo not in seen:
            seen.add(combo)
            out.append(combo)
    return out


def fresh_candidate(pool: list[Candidate], neighbours: list[Candidate], rng: random.Random) -> Candidate:
    """A candidate from ``pool`` for a slot between ``neighbours`` (left, right): another clip
    than both where the pool has one, else than the one before it, else another part of a clip,
    else any — the same clip twice in a row only when it cannot be helped."""
    near = {n.path for n in neighbours}
    left = neighbours[0].path if neighbours else None
    for ok in (lambda c: c.path not in near, lambda c: c.path != left, lambda c: all(c is not n for n in neighbours),
               lambda c: True):
        choices = [c for c in pool if ok(c)]
        if choices:
            return rng.choice(choices)
    raise ValueError("empty pool")
