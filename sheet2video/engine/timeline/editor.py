"""The editor's choices for one output: which part of which file fills which second.

The rules (README "How the engine edits" says the same):

* Coverage: the outputs of a job take their media in turns — every item of a group is used once
  before any item is used twice — and no two outputs get the same combination while another is
  left. The first shot of an output is a part of its clip no earlier output opened with.
* No repeats: a part of a source (same file, overlapping source time) is shown once per output.
  A shot too short for its time is filled, in this order: a longer shot (up to
  ``LONGEST_SHOT`` × SingleShotDuration, within its scene); other unused scenes of the same clips;
  unused media, the middle groups first; photos held longer (up to ``PHOTO_HOLD`` × their
  length); the rest of the clips (longer shots still, other parts of their scenes); only then a
  part shown before — the one shown longest ago, never next to itself; then photos held as long
  as needed; and when nothing else is left, a shot repeated back to back, which the plan warns
  about with the shortfall in seconds.
* Speed: a clip plays between ``MIN_SPEED`` and ``MAX_SPEED``; past that its shots are trimmed,
  or, when nothing is left to show, the last frame is held and the plan warns.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

from sheet2video.engine.timeline.footage import MIN_PIECE, MIN_SHOT, Cut, Item, Reel

__all__ = ["MIN_SPEED", "MAX_SPEED", "LONGEST_SHOT", "PHOTO_HOLD", "JobUsage", "Editor"]

MIN_SPEED, MAX_SPEED = 0.8, 1.25  # slower or faster than this reads as slow motion or a fast-forward
LONGEST_SHOT = 2.0  # × SingleShotDuration: how long one shot may grow before other material is used
PHOTO_HOLD = 2.0    # × ImageDuration: how long a photo is held before a part is shown a second time
_CLOSE = 0.05       # seconds: close enough to the length asked for


class JobUsage:
    """What the outputs planned so far have used: items, parts of clips, opening shots."""

    def __init__(self):
        self.items: Counter = Counter()  # Item → outputs it appeared in
        self.parts: Counter = Counter()  # (path, in-point) → outputs that showed it
        self.openers: set = set()        # (path, in-point) of every output's first shot

    def record(self, reel: Reel) -> None:
        cuts = reel.cuts()
        for item in {c.item: None for c in cuts}:
            self.items[item] += 1
        for c in cuts:
            self.parts[(c.item.path, round(c.start, 3))] += 1
        if cuts:
            self.openers.add((cuts[0].item.path, round(cuts[0].start, 3)))

    def choose(self, groups: list[list[Item]], seen: set, rng: random.Random) -> list[Item]:
        """One item per group: the least used so far, in a combination no earlier output had
        while the least used allow one (``seen`` holds the combinations taken)."""
        least = []
        for items in groups:
            fewest = min(self.items[i] for i in items)
            least.append([i for i in items if self.items[i] == fewest])
        if math.prod(len(x) for x in least) <= 4096:
            combos = list(itertools.product(*least))
            rng.shuffle(combos)
        else:
            combos = [tuple(rng.choice(x) for x in least) for _ in range(64)]
        keys = [tuple(id(i) for i in c) for c in combos]
        pick = next((c for c, k in zip(combos, keys) if k not in seen), combos[0])
        seen.add(tuple(id(i) for i in pick))
        return list(pick)


class Editor:
    """Cuts one output's reel: opening shots, filling, fitting to a length."""

    def __init__(self, reel: Reel, usage: JobUsage, shot: float, image: float, lead: float = 0.0):
        """``lead``: source seconds each clip's shot keeps unshown after it, for a transition
        into it to play (a transition's blend shows the incoming shot early)."""
        self.lead = lead
        self.reel = reel
        self.usage = usage
        self.shot = shot
        self.image = image
        self._spent: set = set()  # (step, cut or item) that cannot give more: cuts only ever join a reel
        self.shortfall = 0.0  # seconds the media could not fill even with reuse (looped, or the last frame held)

    # ------------------------------------------------------------ opening shots

    def open(self, item: Item, *, first: bool = False, filler: bool = False, scenes: set[int] | None = None) -> Cut | None:
        """A shot of ``item`` not yet on screen in this output: a photo for ImageDuration, else
        up to SingleShotDuration of a scene, starting where the job's outputs have opened least
        (an output's first shot: where no output has opened yet)."""
        if item.photo:
            return Cut(item, 0.0, self.image, filler=filler)
        options = []
        for k, (lo, hi) in enumerate(item.spans):
            if scenes is not None and k not in scenes:
                continue
            for j in range(max(1, math.ceil((hi - lo - MIN_SHOT) / self.shot))):
                at = round(lo + j * self.shot, 3)
                key = (item.path, at)
                options.append(((first and key in self.usage.openers, self.usage.parts[key], k, j), k, at))
        for _, k, at in sorted(options, key=lambda o: o[0]):
            piece = self.reel.free_piece(item, k, math.inf, at)
            if piece:
                start, gap = piece
                length = min(self.shot, gap - self.lead) if gap - self.lead >= min(MIN_SHOT, gap) else gap
                return Cut(item, start, length, k, filler=filler)
        return None

    # ------------------------------------------------------------ filling

    def fill(self, segments: list[int], pools: dict[int, list[Item]], target: float) -> None:
        """Add material to ``segments`` (in priority order) until they last ``target`` seconds at
        normal speed, in the order of the module's rules, each segment drawing on its pool."""
        steps = (
            lambda need: self._lengthen(segments, need, LONGEST_SHOT * self.shot),
            lambda need: self._more_of_the_same(segments, jump=True),
            lambda need: self._unused_media(segments, pools),
            lambda need: self._hold_photos(segments, need, PHOTO_HOLD * self.image),
            lambda need: self._lengthen(segments, need, math.inf),
            lambda need: self._more_of_the_same(segments, jump=False),
            lambda need: self._reuse(segments, need),
            lambda need: self._hold_photos(segments, need, math.inf),
            lambda need: self._reuse(segments, need, loop=True),
        )
        for _ in range(5000):
            need = target - sum(c.length for g in segments for c in self.reel.segments[g])
            if need <= _CLOSE or not any(step(need) for step in steps):
                return

    def _clips(self, segments: list[int]) -> list[Cut]:
        return [c for g in segments for c in self.reel.segments[g] if not c.item.photo]

    def _lengthen(self, segments: list[int], need: float, longest: float) -> bool:
        """Longer shots, up to ``longest`` seconds: the shortest clips' shots grow first, within
        their scene (the shot goes on; no cut)."""
        grown = False
        cuts = sorted((c for c in self._clips(segments) if (longest, id(c)) not in self._spent), key=lambda c: c.length)
        for k, cut in enumerate(cuts):  # each an even share of what is still needed
            share = need / (len(cuts) - k)
            more = min(share, self.reel.room(cut) - self.lead - cut.length, longest - cut.length)
            if more > 0.01:
                cut.length = round(cut.length + more, 3)
                need -= more
                grown = True
            if more < share:
                self._spent.add((longest, id(cut)))
        return grown

    def _more_of_the_same(self, segments: list[int], *, jump: bool) -> bool:
        """Another unused part of a clip already in the output, right after it: with ``jump``,
        only from another of its scenes (a cut, as the clip's own would be); else any part (the
        shots have already grown as far as their scenes go)."""
        for g in segments:
            seg = self.reel.segments[g]
            for item in {c.item: None for c in seg if not c.item.photo and (jump, c.item) not in self._spent}:
                shown = {c.span for c in seg if c.item is item}
                extra = self.open(item, filler=True, scenes=set(range(len(item.spans))) - shown if jump else None)
                if extra is not None:
                    self.reel.add(g, max(k for k, c in enumerate(seg) if c.item is item) + 1, extra)
                    return True
                self._spent.add((jump, item))
        return False

    def _unused_media(self, segments: list[int], pools: dict[int, list[Item]]) -> bool:
        """A file of the pool not yet in the output, into the shortest segment that has one (the
        segments' priority breaks ties), before a closing shot that must stay last."""
        options = []
        for rank, g in enumerate(segments):
            unused = [i for i in pools.get(g, []) if self.reel.uses(i) == 0]
            if unused:
                length = sum(c.length for c in self.reel.segments[g])
                options.append((length, rank, g, unused))
        for _, _, g, unused in sorted(options, key=lambda o: o[:2]):
            fewest = min(self.usage.items[i] for i in unused)
            for item in [i for i in unused if self.usage.items[i] == fewest]:
                cut = self.open(item, filler=True)
                if cut is not None:
                    self._place(g, cut)
                    return True
        return False

    def _place(self, g: int, cut: Cut) -> None:
        seg = self.reel.segments[g]
        self.reel.add(g, len(seg) - 1 if seg and seg[-1].keep else len(seg), cut)

    def _hold_photos(self, segments: list[int], need: float, cap: float) -> bool:
        photos = [c for g in segments for c in self.reel.segments[g] if c.item.photo and c.length < cap - 0.01]
        for cut in photos:
            more = min(need / len(photos), cap - cut.length)
            cut.length = round(cut.length + more, 3)
        return bool(photos)

    def _reuse(self, segments: list[int], need: float, loop: bool = False) -> bool:
        """A part shown before, the one shown longest ago, into its own group's segment at a
        place where it is not next to itself; with ``loop`` (nothing else is left), next to
        itself too, counted as the shortfall the plan warns about."""
        order = self.reel.cuts()
        if not loop and len({c.item.path for c in order}) < 2:
            return False  # every place is next to the same source
        place = {id(c): k for k, c in enumerate(order)}
        for g in segments:
            seg = self.reel.segments[g]
            if not seg:
                continue
            last = len(seg) - 1 if seg[-1].keep else len(seg)
            for old in sorted(seg, key=lambda c: place[id(c)]):
                for at in range(last, -1 if loop else 0, -1):  # a group's opening shot stays first
                    flat = place[id(seg[at])] if at < len(seg) else place[id(seg[-1])] + 1
                    before = order[flat - 1] if flat else None
                    after = order[flat] if flat < len(order) else None
                    if loop or not old.same_source(before) and not old.same_source(after):
                        for _ in range(math.ceil(need / max(old.length, MIN_SHOT)) if loop else 1):
                            copy = Cut(old.item, old.start, old.length, old.span, filler=True)
                            self._spent.update({(LONGEST_SHOT * self.shot, id(copy)), (math.inf, id(copy))})
                            self.reel.add(g, at, copy)  # a copy never grows over its original
                            self.shortfall += old.length if loop else 0.0
                        return True
        return False

    # ------------------------------------------------------------ fitting to a length

    def fit(self, cuts: list[Cut], target: float, *, speed: bool) -> None:
        """Durations for ``cuts`` adding up to ``target``: trimmed (fillers first, then every shot
        but a ``keep`` one, down to MIN_SHOT), then — with ``speed`` — played up to MAX_SPEED
        faster, then cut evenly; or, when short, played down to MIN_SPEED slower, then the last
        frame held (with a warning naming the shortfall)."""
        for c in cuts:
            c.source = 0.0 if c.item.photo else c.length
            c.duration = c.length
            c.room = self.reel.room(c)
        excess = sum(c.duration for c in cuts) - target
        if excess > 0:
            excess = _trim(cuts, excess, lambda c: c.filler and not c.keep)
            excess = _trim(cuts, excess, lambda c: not c.keep)
            if speed and excess > 0:
                excess = _play_at(cuts, excess, MAX_SPEED)
            if excess > 1e-6:
                _scale(cuts, target / (target + excess))
        elif excess < 0 and cuts:
            short = -excess
            if speed:
                short = -_play_at(cuts, -short, MIN_SPEED)
            self.shortfall += max(0.0, short)
            cuts[-1].duration += short
            if not cuts[-1].item.photo:
                cuts[-1].hold = round(short, 3)
        _settle(cuts, target)


def _trim(cuts: list[Cut], excess: float, which) -> float:
    """Shorten the ``which`` shots, each in proportion to what it can lose above MIN_SHOT; the
    excess left."""
    spare = {id(c): max(0.0, c.duration - max(MIN_SHOT, MIN_PIECE)) for c in cuts if which(c)}
    total = sum(spare.values())
    if total <= 0:
        return excess
    share = min(1.0, excess / total)
    for c in cuts:
        if id(c) in spare:
            loss = spare[id(c)] * share
            speed = c.source / c.duration if c.duration and not c.item.photo else 1.0
            c.duration -= loss
            c.source = 0.0 if c.item.photo else c.duration * speed
    return excess - total * share


def _play_at(cuts: list[Cut], excess: float, limit: float) -> float:
    """Play the clips faster (``excess`` > 0, up to ``limit``) or slower (< 0, down to it) so the
    shots lose (or gain) ``excess`` seconds; the part that speed cannot absorb."""
    clips = [c for c in cuts if not c.item.photo]
    shown = sum(c.duration for c in clips)
    if shown <= 0:
        return excess
    wanted = shown / max(1e-6, shown - excess)  # source seconds per output second
    speed = min(wanted, limit) if excess > 0 else max(wanted, limit)
    for c in clips:
        c.duration = c.source / speed
    return excess - (shown - sum(c.duration for c in clips))


def _scale(cuts: list[Cut], factor: float) -> None:
    for c in cuts:
        c.duration *= factor
        c.source *= factor


def _settle(cuts: list[Cut], target: float) -> None:
    """Milliseconds, adding up to ``target`` exactly (the last shot takes the rounding)."""
    for c in cuts:
        c.duration = round(c.duration, 3)
        c.source = round(c.source, 3)
    if cuts:
        cuts[-1].duration = round(cuts[-1].duration + target - sum(c.duration for c in cuts), 3)
