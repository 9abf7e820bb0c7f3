"""Transitions between shots: IMS/VOD transition names mapped to FFmpeg ``xfade`` built-ins, and
the join of the shot streams that blends each pair only over its overlap window.

Timing. Slots still add up to the task's frame count; a transition into shot *k* makes *k*'s stream
start ``lead`` frames before its slot (``Slot.lead``, set by ``video.slots``), so the last ``lead``
frames of shot *k-1*'s slot are blended with the first ``lead`` frames of shot *k*. Speech and
total length do not move. Each shot stream is cut by frame numbers into head window / body / tail
window; ``xfade`` (which works in 4:4:4, so it would convert whole streams) sees only the two
windows of a cut, with ``offset=0`` and ``duration`` = the window; then bodies and blended windows
are concatenated. Every piece has the same fps and timebase (1/fps), so the join is frame-exact.
The shots' own sound is crossfaded over the same windows (``audio._shot_audio``).

Names. Two Alibaba Cloud lists are accepted, case-insensitively:

* the IMM/IMS list (help.aliyun.com .../imm/developer-reference/transition-effect), which is FFmpeg's
  xfade list with longer names (``wipetopleft``, ``horizontalclose``, ``squeezevertical`` …);
* the VOD/ICE timeline ``SubType`` list (alibabacloud.com .../vod/developer-reference/
  transition-effect-examples), GL shaders in the gl-transitions family (``linearblur``,
  ``crosshatch``, ``dreamyzoom``, ``windowslice`` …).

``=`` the same geometry as the cloud's effect; ``~`` a documented substitute (the closest built-in
look, not the same effect); names in :data:`REFUSED` (3-D, warps, glitches: no honest look-alike —
cube, doorway, swirl, kaleidoscope, ripple, morph, glitch*, displacement, waterdrop, gridflip,
mosaic, bounce_*, doomscreentransition_*, polka, burn, colorphase, directionalwarp, dreamy, …)
and unknown names are plan-time errors naming the field.

===================  =============  ==  =====================================================
name                 xfade          ~   note
===================  =============  ==  =====================================================
fade                 fade           =   cross-fade
dissolve             dissolve       =   noise dissolve
fadeblack            fadeblack      =   through black
fadewhite            fadewhite      =   through white
fadegrays            fadegrays      =   through grey
colordistance        distance       =   colour-distance dissolve (VOD 色彩溶解)
wipeleft/right/up/down  wipe*       =   hard-edged wipe
wipetopleft …        wipetl …       =   corner wipes (wipetopright, wipebottomleft, wipebottomright)
slideleft/right/up/down slide*      =   push
smoothleft/right/up/down smooth*    =   soft-edged wipe
circlecrop           circlecrop     =   iris to black and out (VOD 圆形遮罩)
circle               circlecrop     =   VOD 椭圆遮罩, the same iris
rectanglecrop        rectcrop       =
circleopen           circleopen     =
circleclose          circleclose    =
horizontalopen/close horzopen/close =
verticalopen/close   vertopen/close =
diagonaltopleft …    diagtl …       =   diagonal soft wipes (…topright, …bottomleft, …bottomright)
horizontalsliceleft  hlslice        =   and …right (hrslice), verticalsliceup/down (vuslice/vdslice)
pixelize             pixelize       =
radial               radial         =   clock sweep (VOD 圆形扫描)
angular              radial         =   clock sweep (VOD 时钟旋转)
horizontalblur       hblur          =
squeezehorizontal    squeezeh       =   and squeezevertical (squeezev)
squeeze              squeezev       =   gl-transitions squeeze
zoomin               zoomin         =
simplezoom           zoomin         =   VOD 放大消失: zoom into the outgoing shot
linearblur           hblur          ~   blurred cross-fade (VOD blurs along a line, not only across)
crosshatch           dissolve       ~   VOD 线性溶解, a patterned dissolve
perlin               dissolve       ~   VOD 蔓延, a noise dissolve
dreamyzoom           zoomin         ~   VOD 炫境 adds rotation
zoomincircles        circleopen     ~   VOD 圆形放大: several circles, here one
hexagonalize         pixelize       ~   VOD 蜂巢溶解: hexagon cells, here square ones
directional          slideup        ~   VOD 对角切换: a push; gl default direction is upward
directionalwipe      diagbl         ~   gl directionalwipe: diagonal soft wipe
windowslice          hrslice        ~   VOD 栅格: slices sweeping left to right
windowblinds         vdslice        ~   VOD 百叶窗: horizontal strips
bowtievertical       vertclose      ~   VOD 垂直领结: two triangles, here two bars
bowtiehorizontal     horzclose      ~   VOD 水平领结
pinwheel             radial         ~   VOD 风车: several blades, here one sweep
===================  =============  ==  =====================================================
"""

from __future__ import annotations

from sheet2video.engine.compose.graph import Graph
from sheet2video.errors import RenderError

__all__ = ["CODE", "TRANSITIONS", "REFUSED", "check_transition", "xfade_name", "join"]

CODE = "InvalidParameter.TransitionList"

_SAME = "="
_SUB = "~"


def _table() -> dict[str, tuple[str, str]]:
    t: dict[str, tuple[str, str]] = {}

    def same(name: str, xfade: str | None = None) -> None:
        t[name] = (xfade or name, _SAME)

    for name in ("fade", "dissolve", "fadeblack", "fadewhite", "fadegrays", "pixelize", "radial", "zoomin",
                 "circlecrop", "circleopen", "circleclose"):
        same(name)
    for d in ("left", "right", "up", "down"):
        same("wipe" + d)
        same("slide" + d)
        same("smooth" + d)
    for long, short in (("topleft", "tl"), ("topright", "tr"), ("bottomleft", "bl"), ("bottomright", "br")):
        same("wipe" + long, "wipe" + short)
        same("diagonal" + long, "diag" + short)
    same("colordistance", "distance")
    same("circle", "circlecrop")
    same("rectanglecrop", "rectcrop")
    same("horizontalopen", "horzopen")
    same("horizontalclose", "horzclose")
    same("verticalopen", "vertopen")
    same("verticalclose", "vertclose")
    same("horizontalsliceleft", "hlslice")
    same("horizontalsliceright", "hrslice")
    same("verticalsliceup", "vuslice")
    same("verticalslicedown", "vdslice")
    same("angular", "radial")
    same("horizontalblur", "hblur")
    same("squeezehorizontal", "squeezeh")
    same("squeezevertical", "squeezev")
    same("squeeze", "squeezev")
    same("simplezoom", "zoomin")
    for name, xfade in (("linearblur", "hblur"), ("crosshatch", "dissolve"), ("perlin", "dissolve"),
                        ("dreamyzoom", "zoomin"), ("zoomincircles", "circleopen"), ("hexagonalize", "pixelize"),
                        ("directional", "slideup"), ("directionalwipe", "diagbl"), ("windowslice", "hrslice"),
                        ("windowblinds", "vdslice"), ("bowtievertical", "vertclose"),
                        ("bowtiehorizontal", "horzclose"), ("pinwheel", "radial")):
        t[name] = (xfade, _SUB)
    return t


# name (lower case) → (xfade transition, "=" equivalent | "~" substitute)
TRANSITIONS: dict[str, tuple[str, str]] = _table()

# Cloud names with no honest built-in look-alike (3-D, warps, glitches, particles): refused.
REFUSED = frozenset({
    "cube", "doorway", "swirl", "kaleidoscope", "ripple", "morph", "glitchmemories", "glitchdisplace", "glitch",
    "displacement", "crazyparametricfun", "waterdrop", "gridflip", "mosaic", "doomscreentransition_up",
    "doomscreentransition_down", "bounce_up", "bounce_down", "polka", "undulatingburnout", "burn", "colorphase",
    "directionalwarp", "dreamy", "crosswarp", "crosszoom", "flyeye", "heart", "invertedpagecurl", "luma",
    "butterflywavescrawler", "cannabisleaf", "stereoviewer", "rotate_scale_fade", "squareswire", "swap", "wind",
})


def check_transition(name) -> str | None:
    """None when ``name`` can be rendered, else a one-line reason (for the plan-time checks)."""
    key = str(name).strip().lower()
    if key in TRANSITIONS:
        return None
    if key in REFUSED:
        return f"transition {name!r} (a 3-D/warp effect) has no equivalent in the local engine; use e.g. fade, dissolve, wipeleft, slideup, circleopen, zoomin"
    return f"unknown transition {name!r}; use a name such as fade, dissolve, wipeleft, slideup, circleopen, radial, zoomin, linearblur"


def xfade_name(name: str) -> str:
    """The xfade built-in for an IMS/VOD name (RenderError for a name it cannot honour)."""
    problem = check_transition(name)
    if problem:
        raise RenderError(problem, code=CODE)
    return TRANSITIONS[str(name).strip().lower()][0]


def _convert(pix: str) -> str:
    """4:2:0 <-> 4:4:4 for the windows: zimg with nearest-neighbour chroma is 4x faster than
    swscale's default bicubic at 1080x1920 and the round trip is lossless; zimg mangles the alpha
    plane of yuva (shots over a background image), so those keep swscale."""
    return f"format={pix}" if pix.startswith("yuva") else f"zscale=filter=point,format={pix}"


def _window_duration(frames_: int, fps: int) -> str:
    """``frames_/fps`` seconds rounded up to the microsecond, so xfade's blend covers every frame."""
    us = -(-frames_ * 1_000_000 // fps)
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def join(g: Graph, labels: list[str], plan: list, fps: int, pix: str, out: str) -> None:
    """Join the shot streams ``labels`` (slot ``k`` has ``plan[k].lead + plan[k].nf`` frames) into
    ``out``: hard cuts where ``lead`` is 0, an xfade over the window where it is not."""
    if not any(s.lead for s in plan[1:]):
        g.add(f"{''.join(labels)}concat=n={len(labels)}:v=1:a=0{out}")
        return
    wide = "yuva444p" if pix.startswith("yuva") else "yuv444p"  # xfade's planar 4:4:4 formats
    pieces: list[str] = []
    prev_tail = None  # the previous stream's tail window, blended with this stream's head
    for k, (label, slot) in enumerate(zip(labels, plan)):
        head = slot.lead
        tail = plan[k + 1].lead if k + 1 < len(plan) else 0
        total = head + slot.nf
        cuts = [(0, head, "h")] if head else []
        cuts.append((head, total - tail, "b"))
        if tail:
            cuts.append((total - tail, total, "t"))
        parts: dict[str, str] = {}
        names = [g.label(f"s{k}{kind}") for _, _, kind in cuts] if len(cuts) > 1 else [label]
        if len(cuts) > 1:
            g.add(f"{label}split={len(cuts)}{''.join(names)}")
        for (a, b, kind), name in zip(cuts, names):
            trimmed = g.label(f"p{k}{kind}")
            # fps= only sets the link's rate (the frames already sit on 1/fps ticks): a still's
            # stream says 25 fps whatever the task's, and xfade insists both inputs agree.
            wf = f",fps={fps},{_convert(wide)}" if kind != "b" else ""
            g.add(f"{name}trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS{wf}{trimmed}")
            parts[kind] = trimmed
        if head:
            blended = g.label("x")
            effect = xfade_name(plan[k - 1].shot.transition or "fade")
            g.add(f"{prev_tail}{parts['h']}xfade=transition={effect}:duration={_window_duration(head, fps)}:offset=0,"
                  f"{_convert(pix)}{blended}")
            pieces.append(blended)
        pieces.append(parts["b"])
        prev_tail = parts.get("t")
    g.add(f"{''.join(pieces)}concat=n={len(pieces)}:v=1:a=0{out}")
