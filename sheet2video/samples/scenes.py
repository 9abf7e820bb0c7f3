"""The sample clips and photos as scenes: what is drawn (sample_art) and how FFmpeg moves it.

A clip is a background still panned by a ``crop`` and sprites overlaid on it at positions that
are FFmpeg expressions of ``t`` (seconds); a sprite with its own ``motion`` (rotate, fade) is looped
into a stream first. ``post`` runs on the finished picture (slow zoom, colour drift; ``{fps}`` and
``{frames}`` are filled in). A photo is the same kind of drawing, flattened once by Pillow.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from sheet2video.samples import art

__all__ = [
    "Layer",
    "Scene",
    "autumn_window",
    "sunrise",
    "citrus_splash",
    "latte_cup",
    "cold_brew",
    "fruit_rain",
    "grocery_bag",
    "latte_above",
    "end_card",
    "dusk_store",
    "cafe_table_photo",
    "sky_photo",
    "fruit_bowl_photo",
    "SCENES",
    "PHOTOS",
]


@dataclass
class Layer:
    image: Image.Image
    x: str = "0"  # overlay position (FFmpeg expressions; t = seconds, W/H = frame, w/h = sprite)
    y: str = "0"
    motion: str = ""  # filters on the sprite itself, per frame (e.g. rotate)


@dataclass
class Scene:
    background: Image.Image  # RGB, larger than the frame by ``margin`` on every side
    margin: int = 0
    pan: tuple[str, str] = ("0", "0")  # crop offsets inside the margin, expressions of t
    layers: list[Layer] = field(default_factory=list)
    post: str = ""


def _spin(speed: float, start: float = 0.0) -> str:
    # bilinear rotation of an RGBA sprite about its centre, corners transparent
    return f"format=rgba,rotate=a='{start:g}+{speed:g}*t':c=none:ow=hypot(iw\\,ih):oh=ow"


def _sway(amplitude: float, period: float) -> str:
    return f"format=rgba,rotate=a='{amplitude:g}*sin(2*PI*t/{period:g})':c=none:ow=hypot(iw\\,ih):oh=ow"


def _falling(sprites: list[Image.Image], w: int, h: int, seed: int, speed: tuple[int, int]) -> list[Layer]:
    """Sprites drifting down and wrapping round off-screen, each turning at its own pace."""
    rnd = random.Random(seed)
    layers = []
    for s in sprites:
        span = h + s.height * 1.5
        v, offset, x0 = rnd.randint(*speed), rnd.uniform(0, span), rnd.uniform(0.05, 0.85) * w
        layers.append(Layer(s, x=f"{x0:.0f}+{w * 0.04:.0f}*sin(t*{rnd.uniform(0.8, 1.6):.2f}+{rnd.uniform(0, 6):.2f})",
                            y=f"mod(t*{v}+{offset:.0f}\\,{span:.0f})-h",
                            motion=_spin(rnd.choice((-1, 1)) * rnd.uniform(0.3, 0.9), rnd.uniform(0, 6))))
    return layers


def _bg(w: int, h: int, margin: int, top: str, bottom: str) -> Image.Image:
    return art.vertical((w + 2 * margin, h + 2 * margin), top, bottom)


def autumn_window(w: int, h: int, duration: float) -> Scene:
    m = h // 20
    bg = _bg(w, h, m, "#F2A552", "#8C2F1C")
    art.glow(bg, (w * 0.8, h * 0.2), h * 0.5, "#FFE6B0", 0.7)
    art.vignette(bg, 0.3)
    near = art.bokeh((w, h + h // 4), ["#FFD98A", "#FFF1C9", "#FFB45E"], 26, seed=1, radius=(w // 40, w // 12), blur=w / 150)
    far = art.bokeh((w, h + h // 4), ["#FFE3A3", "#FF9E5E"], 14, seed=2, radius=(w // 10, w // 5), blur=w / 40)
    leaves = [art.leaf(w // s, c, seed=i) for i, (s, c) in
              enumerate([(5, "#E8772E"), (6, "#C0392B"), (7, "#F4B63F"), (5, "#D35400"), (8, "#B7472A")])]
    return Scene(bg, m, (f"{m}+{m * 0.8:.0f}*sin(t*0.5)", f"{m}"), [
        Layer(far, y=f"-{h // 8}+t*{h // 90}"),
        Layer(near, y=f"-t*{h // 40}"),
        *_falling(leaves, w, h, seed=3, speed=(h // 14, h // 8)),
    ], post=f"hue=h='6*sin(2*PI*t/{duration:g})'")


def sunrise(w: int, h: int, duration: float) -> Scene:
    m = h // 20
    bg = _bg(w, h, m, "#F4B860", "#FFEBC4")
    sun = art.disc(h // 2, "#FFF6D8", blur=h / 40)
    halo = art.disc(h, "#FFE3A0", blur=h / 8)
    hills = Image.new("RGBA", (w + 40, h // 3), (0, 0, 0, 0))
    d = ImageDraw.Draw(hills)
    d.ellipse((-w * 0.3, h * 0.08, w * 0.7, h * 0.9), fill=(201, 120, 74))
    d.ellipse((w * 0.35, h * 0.03, w * 1.4, h * 0.9), fill=(176, 96, 60))
    d.rectangle((0, h * 0.2, w + 40, h), fill=(150, 78, 48))
    clouds = [art.cloud(w // s) for s in (3, 4, 5)]
    return Scene(bg, m, (f"{m}", f"{m}-t*{m / duration:.1f}"), [
        Layer(halo, x=f"W*0.55-w/2", y=f"H*0.75-h/2-t*{h // 25}"),
        Layer(sun, x=f"W*0.55-w/2", y=f"H*0.72-h/2-t*{h // 25}"),
        Layer(clouds[0], x=f"-w+t*{w // 30}+{w * 0.3:.0f}", y=f"{h * 0.12:.0f}"),
        Layer(clouds[1], x=f"{w * 0.7:.0f}-t*{w // 50}", y=f"{h * 0.3:.0f}"),
        Layer(clouds[2], x=f"{w * 0.05:.0f}+t*{w // 70}", y=f"{h * 0.4:.0f}"),
        Layer(hills, x="-20+t*4", y=f"H-h"),
    ])


def citrus_splash(w: int, h: int, duration: float) -> Scene:
    m = h // 20
    bg = _bg(w, h, m, "#9ACD6E", "#2E6B3A")
    art.glow(bg, (w * 0.3, h * 0.3), h * 0.7, "#E9F7B8", 0.5)
    dots = art.bokeh((w + w // 4, h), ["#F1FFC4", "#D4F28B", "#FFFFFF"], 18, seed=4, radius=(h // 30, h // 9), blur=h / 90)
    sl = art.citrus(int(h * 0.62), slice_=True)
    whole = art.citrus(int(h * 0.34))
    leaves = [art.leaf(h // 5, "#4E9A3A", seed=5), art.leaf(h // 6, "#6DB24A", seed=6)]
    return Scene(bg, m, (f"{m}-t*{m / duration:.1f}", f"{m}"), [
        Layer(dots, x=f"-t*{w // 25}"),
        Layer(leaves[0], x=f"W*0.5", y=f"H*0.08+6*sin(t*1.4)"),
        Layer(sl, x=f"W*0.64-w/2", y=f"H*0.5-h/2+8*sin(t*1.2)", motion=_spin(0.45)),
        Layer(whole, x=f"W*0.28-w/2", y=f"H*0.62-h/2+6*sin(t*1.5+1)", motion=_sway(0.12, 3)),
        Layer(leaves[1], x=f"W*0.12", y=f"H*0.2+5*sin(t*1.1)"),
    ])


def _table(w: int, h: int, top: float, wall: tuple[str, str], wood: tuple[str, str]) -> Image.Image:
    """A wall and, from ``top`` (fraction of the height) down, a wooden table seen from the front."""
    img = art.vertical((w, h), *wall)
    y = int(h * top)
    table = art.vertical((w, h - y), *wood)
    d = ImageDraw.Draw(table)
    rnd = random.Random(w)
    for _ in range(10):  # grain
        gy = rnd.uniform(0, h - y)
        d.line((0, gy, w, gy + rnd.uniform(-8, 8)), fill=(100, 62, 38), width=max(1, w // 300))
    d.rectangle((0, 0, w, max(2, h // 120)), fill=(170, 118, 80))
    img.paste(table, (0, y))
    return img


def latte_cup(w: int, h: int, duration: float) -> Scene:
    bg = _table(w, h, 0.64, ("#3A5070", "#26344E"), ("#9A6642", "#5E3A24"))  # a cosy slate wall: the steam shows
    art.glow(bg, (w * 0.2, h * 0.15), h * 0.5, "#FFD9A0", 0.55)
    wall = art.bokeh((w, int(h * 0.66)), ["#FFD38A", "#FFF1D6", "#F7A85B"], 18, seed=7, radius=(w // 25, w // 9), blur=w / 50)
    art.vignette(bg, 0.25)
    cup = art.takeaway_cup(int(w * 0.46))
    cx, base = w * 0.5, h * 0.8  # cup centre and where it stands
    leaves = [art.leaf(w // 6, "#D35400", seed=8), art.leaf(w // 7, "#E8A33D", seed=9)]
    wisp = art.steam(int(w * 0.3), int(h * 0.22), seed=10)
    wisp2 = art.steam(int(w * 0.24), int(h * 0.18), seed=11)
    cup_top = base - cup.height
    return Scene(bg, 0, ("0", "0"), [
        Layer(wall, x=f"-t*{w // 60}"),
        Layer(art.shadow(int(cup.width * 1.4), cup.width // 3), x=f"{cx:.0f}-w/2", y=f"{base:.0f}-h/2"),
        Layer(leaves[0], x=f"{w * 0.06:.0f}", y=f"{h * 0.8:.0f}"),
        Layer(leaves[1], x=f"{w * 0.7:.0f}", y=f"{h * 0.86:.0f}"),
        Layer(cup, x=f"{cx:.0f}-w/2", y=f"{cup_top:.0f}"),
        Layer(wisp, x=f"{cx:.0f}-w/2+{w // 40}*sin(t*1.3)", y=f"{cup_top:.0f}-h*0.95-t*{h // 120}",
              motion=f"format=rgba,fade=t=in:d=1.2:alpha=1"),
        Layer(wisp2, x=f"{cx - w * 0.05:.0f}-w/2+{w // 50}*sin(t*1.7+2)", y=f"{cup_top:.0f}-h*1.1-t*{h // 90}",
              motion=f"format=rgba,fade=t=in:st=0.6:d=1.5:alpha=1"),
    ], post=(f"zoompan=z='1+0.08*on/{{frames}}':x='iw/2-iw/zoom/2':y='ih*0.6-ih*0.6/zoom'"
             f":d=1:s={w}x{h}:fps={{fps}}"))


def cold_brew(w: int, h: int, duration: float) -> Scene:
    bg = _bg(w, h, 0, "#46BFAF", "#1B4F5C")
    art.glow(bg, (w * 0.7, h * 0.35), h * 0.7, "#C9F4EA", 0.45)
    bubbles = art.bokeh((w, h * 2), ["#E8FFFA", "#BFF2E8", "#FFFFFF"], 40, seed=12, radius=(h // 60, h // 18), blur=1.5)
    b = art.bottle(int(h * 0.26))
    glass = art.iced_glass(int(h * 0.3))
    ice = [art.ice_cube(h // 7), art.ice_cube(h // 9)]
    return Scene(bg, 0, ("0", "0"), [
        Layer(bubbles, x="0", y=f"-t*{h // 8}"),
        Layer(art.shadow(int(b.width * 2), b.width // 2), x=f"W*0.38-w/2", y=f"H*0.9-h/2"),
        Layer(b, x=f"W*0.38-w/2+6*sin(t*1.1)", y=f"H*0.9-h", motion=_sway(0.06, 2.6)),
        Layer(art.shadow(int(glass.width * 1.6), glass.width // 2), x="W*0.6-w/2", y="H*0.9-h/2"),
        Layer(glass, x="W*0.6-w/2", y=f"H*0.9-h+{h // 30}*pow(max(0\\,1-t/1.2)\\,2)"),
        Layer(ice[0], x="W*0.74", y="H*0.9-h", motion=_sway(0.1, 3.1)),
        Layer(ice[1], x="W*0.84", y="H*0.92-h", motion=_sway(-0.12, 2.4)),
    ], post=f"hue=h='8*sin(2*PI*t/{duration:g})'")


def fruit_rain(w: int, h: int, duration: float) -> Scene:
    bg = _bg(w, h, 0, "#FFC2CF", "#E25C7E")
    art.glow(bg, (w * 0.5, h * 0.45), w * 0.9, "#FFF0F3", 0.55)
    sparkle = art.bokeh((w, h + h // 3), ["#FFFFFF", "#FFE0E8"], 24, seed=13, radius=(w // 40, w // 10), blur=2)
    fruit = [art.strawberry(w // 3), art.cherries(w // 4), art.citrus(w // 4), art.strawberry(w // 4),
             art.cherries(w // 3), art.strawberry(w // 5), art.citrus(w // 5, peel="#FFD23F", flesh="#FFF3A0")]
    return Scene(bg, 0, ("0", "0"), [
        Layer(sparkle, y=f"-t*{h // 40}"),
        *_falling(fruit, w, h, seed=14, speed=(h // 7, h // 4)),
    ])


def grocery_bag(w: int, h: int, duration: float) -> Scene:
    bg = _bg(w, h, 0, "#5CA0EE", "#1D3F8F")
    art.glow(bg, (w * 0.5, h * 0.4), h * 0.8, "#DDEBFF", 0.5)
    lights = art.bokeh((w + w // 3, h), ["#FFFFFF", "#CFE3FF", "#FFE8A8"], 22, seed=15, radius=(h // 40, h // 10), blur=2)
    bag = art.shopping_bag(int(h * 0.5))
    ease = "pow(max(0\\,1-t/1.4)\\,3)"  # 1 → 0 over 1.4 s, decelerating
    x = f"W*0.5-w/2-W*0.7*{ease}"
    side = [art.citrus(h // 6), art.strawberry(h // 7), art.citrus(h // 7, peel="#FFD23F", flesh="#FFF3A0")]
    return Scene(bg, 0, ("0", "0"), [
        Layer(lights, x=f"-t*{w // 30}"),
        Layer(art.shadow(int(bag.width * 1.3), bag.width // 4), x=f"{x}+{bag.width * 0.15:.0f}", y=f"H*0.88-h/2"),
        Layer(bag, x=x, y=f"H*0.88-h+3*sin(t*2)"),
        Layer(side[0], x=f"W*0.74", y=f"H*0.78-h/2", motion=_sway(0.15, 2.2)),
        Layer(side[1], x=f"W*0.84", y=f"H*0.82-h/2"),
        Layer(side[2], x=f"W*0.14", y=f"H*0.8-h/2", motion=_sway(0.15, 2.8)),
    ])


def latte_above(w: int, h: int, duration: float) -> Scene:
    bg = _bg(w, h, 0, "#A8759A", "#5A3352")
    d = ImageDraw.Draw(bg)
    rnd = random.Random(16)
    for _ in range(18):  # coffee beans scattered on the table
        x, y, r = rnd.uniform(0, w), rnd.uniform(0, h), w / 40
        d.ellipse((x - r, y - r * 0.7, x + r, y + r * 0.7), fill=(74, 44, 30))
        d.line((x - r * 0.7, y, x + r * 0.7, y), fill=(40, 22, 14), width=2)
    art.glow(bg, (w * 0.5, h * 0.5), w * 0.9, "#F2D5E6", 0.35)
    art.vignette(bg, 0.35)
    cup = art.latte_top(int(w * 0.78))
    leaves = [art.leaf(w // 4, "#E8772E", seed=17), art.leaf(w // 5, "#F4B63F", seed=18)]
    return Scene(bg, 0, ("0", "0"), [
        Layer(art.shadow(int(w * 0.9), int(w * 0.9), 0.4), x="W/2-w/2+10", y="H/2-h/2+14"),
        Layer(cup, x="W/2-w/2", y="H/2-h/2", motion=_spin(0.35)),
        Layer(leaves[0], x=f"{w * 0.05:.0f}+t*{w // 40}", y=f"{h * 0.1:.0f}+t*{h // 50}", motion=_spin(0.3)),
        Layer(leaves[1], x=f"{w * 0.65:.0f}-t*{w // 50}", y=f"{h * 0.78:.0f}", motion=_spin(-0.25)),
    ])


def end_card(w: int, h: int, duration: float) -> Scene:
    m = h // 20
    bg = _bg(w, h, m, "#C0394A", "#5A0F1E")
    art.glow(bg, (w * 0.5 + m, h * 0.42 + m), w * 0.9, "#FF9E6B", 0.45)
    art.vignette(bg, 0.35)
    gold = art.bokeh((w, h + h // 3), ["#FFD98A", "#FFF1C9", "#FFC46B"], 30, seed=19, radius=(w // 50, w // 12), blur=w / 120)
    cup = art.takeaway_cup(int(w * 0.3), sleeve="#C0392B")
    bag = art.shopping_bag(int(w * 0.34))
    rise = f"{h // 14}*pow(max(0\\,1-t/1.2)\\,2)"  # settles upward in the first 1.2 s
    return Scene(bg, m, (f"{m}", f"{m}+{m * 0.6:.0f}*sin(t*0.7)"), [
        Layer(gold, y=f"-t*{h // 30}"),
        Layer(art.shadow(int(w * 0.8), h // 30), x="W/2-w/2", y=f"H*0.9-h/2"),
        Layer(bag, x=f"W*0.56-w/2", y=f"H*0.9-h+{rise}"),
        Layer(cup, x=f"W*0.36-w/2", y=f"H*0.9-h+{rise}"),
    ], post=f"eq=brightness='0.03*sin(2*PI*t/2)':eval=frame")


def dusk_store(w: int, h: int, duration: float) -> Scene:
    m = w // 16
    bg = _bg(w, h, m, "#1E2466", "#7A4F9E")
    art.glow(bg, (w * 0.3 + m, h * 0.95 + m), h * 0.6, "#FFB27A", 0.45)
    store = art.storefront(int(w * 0.56), int(h * 0.62))
    lights = art.bokeh((w + m, h // 2), ["#FFE7A8", "#FFD27A", "#FFFFFF"], 26, seed=20, radius=(h // 60, h // 25), blur=1.2)
    return Scene(bg, m, (f"{m}+t*{m / duration:.1f}", f"{m}"), [
        Layer(lights, x=f"-t*{m / duration:.1f}", y="0"),
        Layer(store, x=f"W*0.5-w/2-t*{m / duration * 0.6:.1f}", y=f"H-h-{h // 16}"),
        Layer(Image.new("RGBA", (w, h // 16), (43, 30, 51, 255)), y="H-h"),  # the pavement
    ])


# ---- photos ----------------------------------------------------------------------------------------


def _place(img: Image.Image, s: Image.Image, cx: float, cy: float) -> None:
    img.alpha_composite(s, (int(cx - s.width / 2), int(cy - s.height / 2)))


def cafe_table_photo(w: int, h: int) -> Image.Image:
    """Top-down: a wooden table with a latte, a croissant and autumn leaves."""
    img = Image.new("RGBA", (w, h))
    d = ImageDraw.Draw(img)
    rnd = random.Random(21)
    planks = 5
    for i in range(planks):
        tone = rnd.randint(-14, 14)
        d.rectangle((0, h * i / planks, w, h * (i + 1) / planks), fill=(140 + tone, 92 + tone, 58 + tone))
        d.line((0, h * (i + 1) / planks, w, h * (i + 1) / planks), fill=(80, 50, 30), width=3)
        for _ in range(4):
            gy = h * (i + rnd.random()) / planks
            d.line((0, gy, w, gy + rnd.uniform(-6, 6)), fill=(120 + tone, 78 + tone, 48 + tone), width=2)
    _place(img, art.shadow(int(w * 0.62), int(w * 0.62), 0.45), w * 0.42, h * 0.44)
    _place(img, art.latte_top(int(w * 0.56)), w * 0.4, h * 0.42)
    _place(img, art.croissant(int(w * 0.34)), w * 0.74, h * 0.8)
    for i, (cx, cy, c) in enumerate([(0.85, 0.15, "#D35400"), (0.12, 0.82, "#E8A33D"), (0.9, 0.5, "#C0392B"), (0.2, 0.1, "#F4B63F")]):
        _place(img, art.leaf(w // 5, c, seed=30 + i), w * cx, h * cy)
    out = img.convert("RGB")
    art.vignette(out, 0.3)
    return out


def sky_photo(w: int, h: int) -> Image.Image:
    """A clear morning sky over green hills, with a low sun and soft clouds."""
    img = art.vertical((w, h), "#5EA8F5", "#DCEEFF")
    art.glow(img, (w * 0.78, h * 0.45), h * 0.6, "#FFF7D6", 0.8)
    rgba = img.convert("RGBA")
    for cx, cy, s in ((0.2, 0.2, 3), (0.55, 0.3, 4), (0.85, 0.15, 5)):
        _place(rgba, art.cloud(w // s), w * cx, h * cy)
    d = ImageDraw.Draw(rgba)
    cx, cy, rx, ry = w * 0.2, h * 1.06, w * 0.5, h * 0.44  # the far hill, an ellipse
    for i in range(6):  # round trees standing on its crest
        x = w * (0.02 + 0.07 * i)
        top = cy - ry * math.sqrt(max(0.0, 1 - ((x - cx) / rx) ** 2))
        r = h * (0.035 + 0.01 * (i % 2))
        d.rectangle((x - 2, top - r, x + 2, top + 4), fill=(90, 70, 40))
        d.ellipse((x - r, top - r * 2.6, x + r, top - r * 0.6), fill=(58, 120 + 8 * (i % 3), 50))
    d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=(122, 178, 86))
    d.ellipse((w * 0.3, h * 0.7, w * 1.4, h * 1.6), fill=(92, 150, 66))
    return rgba.convert("RGB")


def fruit_bowl_photo(w: int, h: int) -> Image.Image:
    """A bowl of fruit on a linen-covered table against a fresh lime wall."""
    img = art.vertical((w, h), "#E6EA94", "#BFC85A")
    art.glow(img, (w * 0.7, h * 0.25), h * 0.5, "#FBFDE0", 0.6)
    rgba = img.convert("RGBA")
    d = ImageDraw.Draw(rgba)
    d.rectangle((0, h * 0.7, w, h), fill=(244, 236, 220))
    d.rectangle((0, h * 0.7, w, h * 0.715), fill=(220, 208, 188))
    _place(rgba, art.shadow(int(w * 1.1), h // 10, 0.35), w * 0.5, h * 0.86)
    rim = h * 0.7  # the bowl's rim; fruit is piled above it, the bowl drawn over their bottoms
    fruit = [(art.citrus(int(w * 0.34)), 0.3, rim - h * 0.1), (art.citrus(int(w * 0.32)), 0.62, rim - h * 0.11),
             (art.citrus(int(w * 0.26), peel="#FFD23F", flesh="#FFF3A0"), 0.16, rim - h * 0.04),
             (art.strawberry(int(w * 0.3)), 0.46, rim - h * 0.03), (art.cherries(int(w * 0.3)), 0.8, rim - h * 0.06),
             (art.strawberry(int(w * 0.24)), 0.64, rim - h * 0.01)]
    for s, cx, cy in fruit:
        _place(rgba, s, w * cx, cy)
    d.chord((w * 0.04, h * 0.6, w * 0.96, h * 0.86), 0, 180, fill=(240, 246, 250))
    d.chord((w * 0.04, h * 0.6, w * 0.96, h * 0.86), 0, 180, outline=(120, 160, 200), width=4)
    return rgba.convert("RGB")


SCENES = {f.__name__: f for f in (autumn_window, sunrise, citrus_splash, latte_cup, cold_brew, fruit_rain,
                                  grocery_bag, latte_above, end_card, dusk_store)}
PHOTOS = {f.__name__: f for f in (cafe_table_photo, sky_photo, fruit_bowl_photo)}
