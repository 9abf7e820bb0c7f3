"""Pillow drawings for the sample media: backgrounds, bokeh, products and small props.

Every function returns a still (RGB) or a sprite (RGBA with soft alpha edges) and is
deterministic: randomness comes from ``random.Random(seed)``. Sprites are drawn at twice their
size and scaled down, which anti-aliases the edges. FFmpeg animates them (samples.py); nothing
here touches a video frame.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter

__all__ = [
    "RGB",
    "SS",
    "hex_rgb",
    "vertical",
    "glow",
    "vignette",
    "soft",
    "sprite",
    "bokeh",
    "shadow",
    "takeaway_cup",
    "steam",
    "bottle",
    "strawberry",
    "citrus",
    "cherries",
    "leaf",
    "shopping_bag",
    "latte_top",
    "croissant",
    "cloud",
    "disc",
    "storefront",
    "logo",
    "ice_cube",
    "iced_glass",
]

RGB = tuple[int, int, int]
SS = 2  # supersampling factor for sprites


def hex_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def vertical(size: tuple[int, int], top: str, bottom: str) -> Image.Image:
    """A top-to-bottom linear gradient."""
    mask = Image.linear_gradient("L").resize(size, Image.BILINEAR)
    return Image.composite(Image.new("RGB", size, hex_rgb(bottom)), Image.new("RGB", size, hex_rgb(top)), mask)


def glow(image: Image.Image, centre: tuple[float, float], radius: float, colour: str, strength: float) -> None:
    """Brighten ``image`` in place with a soft radial light (a window, a lamp, the sun)."""
    w, h = image.size
    light = Image.radial_gradient("L").resize((int(radius * 2), int(radius * 2)), Image.BILINEAR)
    # radial_gradient is 181 at the middle of each edge (255 only in the corners): fade to 0 there
    light = light.point(lambda v: int(255 * strength * max(0.0, 1 - v / 181) ** 2))
    mask = Image.new("L", (w, h), 0)
    mask.paste(light, (int(centre[0] - radius), int(centre[1] - radius)))
    image.paste(Image.new("RGB", (w, h), hex_rgb(colour)), (0, 0), mask)


def vignette(image: Image.Image, strength: float = 0.35) -> None:
    """Darken the corners a little, as a lens does."""
    w, h = image.size
    ring = Image.radial_gradient("L").resize((w, h), Image.BILINEAR)
    ring = ring.point(lambda v: int(255 * strength * min(1.0, max(0.0, (v - 110) / 145))))
    image.paste(Image.new("RGB", (w, h), (0, 0, 0)), (0, 0), ring)


def soft(mask: Image.Image, radius: float) -> Image.Image:
    return mask.filter(ImageFilter.GaussianBlur(radius)) if radius > 0 else mask


def sprite(mask: Image.Image, colour: str | RGB, opacity: float = 1.0) -> Image.Image:
    """A one-colour RGBA sprite from an L mask."""
    rgb = hex_rgb(colour) if isinstance(colour, str) else colour
    out = Image.new("RGBA", mask.size, rgb + (0,))
    out.putalpha(mask.point(lambda v: int(v * opacity)) if opacity < 1 else mask)
    return out


def bokeh(size: tuple[int, int], colours: list[str], count: int, seed: int,
          radius: tuple[int, int] = (10, 40), blur: float = 3.0) -> Image.Image:
    """Out-of-focus light discs on a transparent layer: a pale disc with a brighter rim."""
    rnd = random.Random(seed)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    for _ in range(count):
        r = rnd.randint(*radius)
        x, y = rnd.uniform(0, size[0]), rnd.uniform(0, size[1])
        colour = hex_rgb(rnd.choice(colours))
        pad = int(blur * 3) + 2  # room for the blur, or the disc comes out square
        disc = Image.new("L", (2 * (r + pad), 2 * (r + pad)), 0)
        d = ImageDraw.Draw(disc)
        alpha = rnd.randint(50, 120)
        d.ellipse((pad, pad, 2 * r + pad, 2 * r + pad), fill=alpha)
        d.ellipse((pad, pad, 2 * r + pad, 2 * r + pad), outline=min(255, alpha + 60), width=max(1, r // 8))
        disc = soft(disc, blur)
        dot = Image.new("RGBA", disc.size, colour + (0,))
        dot.putalpha(disc)
        layer.alpha_composite(dot, (int(x - r - pad), int(y - r - pad)))
    return layer


def _finish(big: Image.Image, blur: float = 0.6) -> Image.Image:
    """Scale a supersampled sprite down to its real size, softening the alpha edge slightly."""
    w, h = big.size
    small = big.resize((w // SS, h // SS), Image.LANCZOS)
    if blur:
        small.putalpha(small.getchannel("A").filter(ImageFilter.GaussianBlur(blur)))
    return small


def shadow(width: int, height: int, opacity: float = 0.35) -> Image.Image:
    """A soft elliptical contact shadow."""
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((width * 0.15, height * 0.25, width * 0.85, height * 0.75), fill=255)
    return sprite(soft(mask, min(width, height) * 0.07), (30, 15, 5), opacity)  # blur within the margin


# ---- products and props ------------------------------------------------------------------------


def takeaway_cup(width: int, sleeve: str = "#D9622B", body: str = "#FBF5EC", lid: str = "#5A3A2A") -> Image.Image:
    """A paper coffee cup with a lid and a coloured sleeve bearing a small leaf mark."""
    w, h = width * SS, int(width * 1.45) * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    top, bottom = w * 0.08, w * 0.2  # inset of the body's top and bottom corners
    y0, y1 = h * 0.14, h * 0.98
    d.polygon([(top, y0), (w - top, y0), (w - bottom, y1), (bottom, y1)], fill=hex_rgb(body))
    # shading: the right side of the body is a little darker
    d.polygon([(w * 0.68, y0), (w - top, y0), (w - bottom, y1), (w * 0.66, y1)], fill=(232, 222, 208))
    # sleeve band
    s0, s1 = h * 0.42, h * 0.74

    def xl(y: float) -> float:
        return top + (bottom - top) * (y - y0) / (y1 - y0)

    d.polygon([(xl(s0) - 2, s0), (w - xl(s0) + 2, s0), (w - xl(s1) + 2, s1), (xl(s1) - 2, s1)], fill=hex_rgb(sleeve))
    # a leaf on the sleeve
    cx, cy, r = w * 0.45, (s0 + s1) / 2, (s1 - s0) * 0.3
    d.ellipse((cx - r, cy - r * 0.55, cx + r, cy + r * 0.55), fill=(255, 236, 210))
    d.line((cx - r, cy, cx + r * 1.1, cy), fill=hex_rgb(sleeve), width=max(2, w // 90))
    # lid: a rim and a dome
    d.rounded_rectangle((w * 0.02, h * 0.08, w * 0.98, h * 0.16), radius=w * 0.03, fill=hex_rgb(lid))
    d.rounded_rectangle((w * 0.12, h * 0.02, w * 0.88, h * 0.1), radius=w * 0.05, fill=hex_rgb(lid))
    d.rectangle((w * 0.2, h * 0.035, w * 0.4, h * 0.06), fill=(120, 90, 70))
    # highlight on the body's left
    d.polygon([(w * 0.17, h * 0.2), (w * 0.24, h * 0.2), (w * 0.29, h * 0.9), (w * 0.24, h * 0.9)], fill=(255, 255, 255))
    return _finish(img)


def steam(width: int, height: int, seed: int) -> Image.Image:
    """Three soft, wavy wisps of white steam."""
    rnd = random.Random(seed)
    w, h = width * SS, height * SS
    mask = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(mask)
    for i in range(3):
        x0 = w * (0.25 + 0.25 * i)
        phase, amp = rnd.uniform(0, 6.28), w * rnd.uniform(0.06, 0.1)
        points = [(x0 + amp * math.sin(phase + y / h * 7), y) for y in range(int(h * 0.05), int(h * 0.95), 4)]
        for (xa, ya), (xb, yb) in zip(points, points[1:]):
            fade = 1 - abs(ya / h - 0.55) * 1.6  # thin at both ends
            d.line((xa, ya, xb, yb), fill=int(255 * max(0.0, fade)), width=int(w * 0.09))
    return sprite(soft(mask, w * 0.035).resize((width, height), Image.LANCZOS), "#FFFFFF", 0.85)


def bottle(width: int, glass: str = "#3B2418", label: str = "#F2E3C6", cap: str = "#1F1F1F") -> Image.Image:
    """A cold-brew bottle: dark glass, a cream label with a stripe, a black cap."""
    w, h = width * SS, int(width * 2.8) * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    neck = w * 0.3
    d.rounded_rectangle((w * 0.5 - neck / 2 - 4, h * 0.0, w * 0.5 + neck / 2 + 4, h * 0.08), radius=w * 0.05, fill=hex_rgb(cap))
    d.rectangle((w * 0.5 - neck / 2, h * 0.07, w * 0.5 + neck / 2, h * 0.22), fill=hex_rgb(glass))
    d.polygon([(w * 0.5 - neck / 2, h * 0.2), (w * 0.5 + neck / 2, h * 0.2), (w * 0.98, h * 0.36), (w * 0.02, h * 0.36)], fill=hex_rgb(glass))
    d.rounded_rectangle((w * 0.02, h * 0.33, w * 0.98, h * 0.995), radius=w * 0.12, fill=hex_rgb(glass))
    d.rectangle((w * 0.02, h * 0.5, w * 0.98, h * 0.78), fill=hex_rgb(label))
    d.rectangle((w * 0.02, h * 0.6, w * 0.98, h * 0.64), fill=(42, 157, 143))
    d.ellipse((w * 0.38, h * 0.67, w * 0.62, h * 0.73), fill=(42, 157, 143))
    # glass highlights
    d.rounded_rectangle((w * 0.12, h * 0.38, w * 0.2, h * 0.48), radius=w * 0.04, fill=(150, 120, 100))
    d.rounded_rectangle((w * 0.12, h * 0.8, w * 0.2, h * 0.95), radius=w * 0.04, fill=(120, 90, 70))
    return _finish(img)


def strawberry(width: int) -> Image.Image:
    w = h = width * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    # a rounded top and sides narrowing to a tip: half-width sqrt(1 - v^2) for v from -0.3 to 1
    vs = [-0.3 + 1.3 * i / 30 for i in range(31)]
    y = [h * (0.3 + 0.62 * (v + 0.3) / 1.3) for v in vs]
    half = [w * 0.42 * math.sqrt(max(0.0, 1 - v * v)) for v in vs]
    body = [(w / 2 - hw, yy) for hw, yy in zip(half, y)] + [(w / 2 + hw, yy) for hw, yy in reversed(list(zip(half, y)))]
    d.ellipse((w / 2 - half[0], h * 0.22, w / 2 + half[0], h * 0.42), fill=(220, 38, 62))
    d.polygon(body, fill=(220, 38, 62))
    rnd = random.Random(width)
    for _ in range(22):
        x, y = rnd.uniform(w * 0.3, w * 0.7), rnd.uniform(h * 0.35, h * 0.8)
        d.ellipse((x - w * 0.015, y - w * 0.025, x + w * 0.015, y + w * 0.025), fill=(255, 222, 120))
    for a in range(5):
        ang = math.pi * (0.1 + 0.2 * a)
        d.polygon([(w * 0.5, h * 0.22), (w * 0.5 + w * 0.3 * math.cos(ang), h * 0.22 - h * 0.12 * math.sin(ang) + h * 0.04),
                   (w * 0.5 + w * 0.12 * math.cos(ang + 0.3), h * 0.24)], fill=(60, 150, 60))
    d.ellipse((w * 0.3, h * 0.34, w * 0.42, h * 0.5), fill=(245, 120, 130))
    return _finish(img)


def citrus(width: int, peel: str = "#F59A23", flesh: str = "#FFC857", slice_: bool = False) -> Image.Image:
    """An orange: whole (with a leaf) or as a slice seen from the front."""
    w = h = width * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    m = w * 0.06
    d.ellipse((m, m, w - m, h - m), fill=hex_rgb(peel))
    if slice_:
        d.ellipse((m * 2.2, m * 2.2, w - m * 2.2, h - m * 2.2), fill=(255, 246, 220))
        r0, r1 = w * 0.06, w / 2 - m * 2.9
        for i in range(10):
            a0, a1 = 2 * math.pi * i / 10 + 0.06, 2 * math.pi * (i + 1) / 10 - 0.06
            pts = [(w / 2 + r0 * math.cos((a0 + a1) / 2), h / 2 + r0 * math.sin((a0 + a1) / 2))]
            pts += [(w / 2 + r1 * math.cos(a0 + (a1 - a0) * k / 8), h / 2 + r1 * math.sin(a0 + (a1 - a0) * k / 8)) for k in range(9)]
            d.polygon(pts, fill=hex_rgb(flesh))
    else:
        d.ellipse((w * 0.22, h * 0.2, w * 0.42, h * 0.36), fill=(255, 200, 120))
        d.ellipse((w * 0.5, m * 0.2, w * 0.85, m * 2.6), fill=(70, 160, 70))
    return _finish(img)


def cherries(width: int) -> Image.Image:
    w = h = width * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.line((w * 0.3, h * 0.62, w * 0.55, h * 0.08), fill=(90, 120, 40), width=w // 28)
    d.line((w * 0.72, h * 0.6, w * 0.55, h * 0.08), fill=(90, 120, 40), width=w // 28)
    d.ellipse((w * 0.55, h * 0.02, w * 0.82, h * 0.16), fill=(80, 160, 70))
    for cx, cy in ((w * 0.3, h * 0.7), (w * 0.7, h * 0.68)):
        r = w * 0.22
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(160, 16, 40))
        d.ellipse((cx - r * 0.55, cy - r * 0.6, cx - r * 0.15, cy - r * 0.2), fill=(230, 90, 110))
    return _finish(img)


def leaf(width: int, colour: str, seed: int) -> Image.Image:
    """A stylised maple leaf with a vein and a stem."""
    rnd = random.Random(seed)
    w = h = width * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    pts = []
    for i in range(60):
        a = 2 * math.pi * i / 60
        lobes = 0.62 + 0.38 * abs(math.cos(2.5 * (a + math.pi / 2))) ** 0.6
        r = w * 0.45 * lobes * (0.55 if math.sin(a) > 0.75 else 1)
        pts.append((w / 2 + r * math.cos(a), h * 0.48 - r * math.sin(a) * 0.95))
    d.polygon(pts, fill=hex_rgb(colour))
    dark = tuple(max(0, c - 70) for c in hex_rgb(colour))
    d.line((w / 2, h * 0.95, w / 2, h * 0.15), fill=dark, width=w // 40)
    for a in (0.6, 2.5):
        d.line((w / 2, h * 0.55, w / 2 + w * 0.32 * math.cos(a), h * 0.55 - h * 0.32 * math.sin(a)), fill=dark, width=w // 60)
    out = _finish(img)
    return out.rotate(rnd.uniform(-40, 40), resample=Image.BICUBIC, expand=True)


def shopping_bag(width: int, paper: str = "#C8955C") -> Image.Image:
    """A kraft paper bag with handles, groceries peeking out: a baguette, greens and an apple."""
    w, h = width * SS, int(width * 1.35) * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    top = h * 0.32
    d.rounded_rectangle((w * 0.15, h * 0.02, w * 0.4, h * 0.5), radius=w * 0.1, fill=(226, 178, 104))  # baguette
    for k in range(3):
        d.line((w * 0.2, h * (0.1 + 0.1 * k), w * 0.35, h * (0.06 + 0.1 * k)), fill=(190, 130, 60), width=w // 45)
    for i, (cx, cy) in enumerate(((0.55, 0.16), (0.65, 0.12), (0.75, 0.2), (0.6, 0.24))):  # greens
        d.ellipse((w * (cx - 0.1), h * (cy - 0.1), w * (cx + 0.1), h * (cy + 0.1)), fill=(70 + 20 * i, 160, 70))
    d.ellipse((w * 0.42, h * 0.2, w * 0.66, h * 0.38), fill=(214, 48, 49))  # apple
    d.arc((w * 0.3, h * 0.12, w * 0.7, h * 0.5), 190, 350, fill=(90, 60, 30), width=w // 30)  # handle
    d.polygon([(w * 0.08, top), (w * 0.92, top), (w * 0.96, h * 0.99), (w * 0.04, h * 0.99)], fill=hex_rgb(paper))
    d.polygon([(w * 0.08, top), (w * 0.92, top), (w * 0.9, top + h * 0.05), (w * 0.1, top + h * 0.05)], fill=(176, 124, 70))
    d.polygon([(w * 0.7, top + h * 0.05), (w * 0.92, top), (w * 0.96, h * 0.99), (w * 0.76, h * 0.99)], fill=(184, 134, 80))
    d.ellipse((w * 0.32, h * 0.58, w * 0.6, h * 0.8), outline=(255, 245, 225), width=w // 40)  # a round stamp
    d.ellipse((w * 0.41, h * 0.64, w * 0.51, h * 0.74), fill=(255, 245, 225))
    return _finish(img)


def latte_top(width: int, saucer: str = "#F4EFE8", cup: str = "#FFFFFF") -> Image.Image:
    """A latte seen from above: saucer, cup, crema and a heart poured in the milk foam."""
    w = h = width * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((0, 0, w, h), fill=hex_rgb(saucer))
    d.ellipse((w * 0.06, h * 0.06, w * 0.94, h * 0.94), outline=(225, 216, 205), width=w // 60)
    d.ellipse((w * 0.16, h * 0.16, w * 0.84, h * 0.84), fill=hex_rgb(cup))
    d.ellipse((w * 0.21, h * 0.21, w * 0.79, h * 0.79), fill=(150, 92, 52))
    d.ellipse((w * 0.25, h * 0.25, w * 0.75, h * 0.75), fill=(176, 112, 66))
    # the heart: two lobes and a point, in milk foam
    d.ellipse((w * 0.34, h * 0.36, w * 0.52, h * 0.54), fill=(250, 240, 225))
    d.ellipse((w * 0.48, h * 0.36, w * 0.66, h * 0.54), fill=(250, 240, 225))
    d.polygon([(w * 0.35, h * 0.48), (w * 0.65, h * 0.48), (w * 0.5, h * 0.68)], fill=(250, 240, 225))
    d.line((w * 0.5, h * 0.5, w * 0.5, h * 0.72), fill=(176, 112, 66), width=w // 80)
    # the handle, sticking out to the right
    d.rounded_rectangle((w * 0.82, h * 0.45, w * 0.98, h * 0.55), radius=w * 0.04, fill=hex_rgb(cup))
    return _finish(img)


def croissant(width: int) -> Image.Image:
    w, h = width * SS, int(width * 0.6) * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    for i in range(7):
        t = i / 6
        r = h * (0.22 + 0.22 * math.sin(math.pi * t))
        cx, cy = w * (0.12 + 0.76 * t), h * (0.7 - 0.35 * math.sin(math.pi * t))
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(214 - 20 * (i % 2), 150 - 20 * (i % 2), 70))
    return _finish(img)


def cloud(width: int) -> Image.Image:
    """A soft white cumulus: overlapping puffs on a rounded base, blurred inside its margin."""
    w, h = width * SS, int(width * 0.5) * SS
    mask = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(mask)
    for cx, cy, r in ((0.3, 0.58, 0.14), (0.45, 0.45, 0.19), (0.62, 0.52, 0.15), (0.74, 0.62, 0.1)):
        d.ellipse((w * (cx - r), h * cy - w * r, w * (cx + r), h * cy + w * r), fill=255)
    d.rounded_rectangle((w * 0.14, h * 0.55, w * 0.86, h * 0.8), radius=h * 0.12, fill=255)
    return sprite(soft(mask, w * 0.012).resize((w // SS, h // SS), Image.LANCZOS), "#FFFFFF", 0.93)


def disc(width: int, colour: str, blur: float = 0.0) -> Image.Image:
    mask = Image.new("L", (width, width), 0)
    ImageDraw.Draw(mask).ellipse((blur * 2, blur * 2, width - blur * 2, width - blur * 2), fill=255)
    return sprite(soft(mask, blur), colour)


def storefront(width: int, height: int, awning: tuple[str, str] = ("#C0392B", "#FBEFD9")) -> Image.Image:
    """A shop front at dusk: a wall, a striped awning, two warm windows and a door."""
    w, h = width * SS, height * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rectangle((0, h * 0.22, w, h), fill=(58, 40, 52))
    stripes = 9
    for i in range(stripes):
        x0, x1 = w * i / stripes, w * (i + 1) / stripes
        d.polygon([(x0, h * 0.2), (x1, h * 0.2), (x1 + w * 0.01, h * 0.36), (x0 + w * 0.01, h * 0.36)],
                  fill=hex_rgb(awning[i % 2]))
        d.pieslice((x0 + w * 0.01, h * 0.32, x1 + w * 0.01, h * 0.4), 0, 180, fill=hex_rgb(awning[i % 2]))
    for x0, x1 in ((0.06, 0.4), (0.6, 0.94)):
        d.rectangle((w * x0, h * 0.46, w * x1, h * 0.86), fill=(255, 196, 110))
        d.rectangle((w * x0, h * 0.46, w * x1, h * 0.5), fill=(255, 226, 160))
        d.line((w * (x0 + x1) / 2, h * 0.46, w * (x0 + x1) / 2, h * 0.86), fill=(58, 40, 52), width=w // 100)
    d.rectangle((w * 0.44, h * 0.5, w * 0.56, h), fill=(255, 176, 90))
    return _finish(img, blur=0.4)


def logo(size: int = 256) -> Image.Image:
    """The sticker: a cream badge with a brown ring, a cup and a leaf; soft (alpha) edge."""
    w = size * SS
    img = Image.new("RGBA", (w, w), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    m = w * 0.04
    d.ellipse((m, m, w - m, w - m), fill=(92, 58, 38))
    d.ellipse((w * 0.1, w * 0.1, w * 0.9, w * 0.9), fill=(255, 244, 228))
    d.ellipse((w * 0.14, w * 0.14, w * 0.86, w * 0.86), outline=(217, 98, 43), width=w // 90)
    # cup: a bowl with a handle and a saucer
    d.chord((w * 0.28, w * 0.3, w * 0.66, w * 0.72), 0, 180, fill=(92, 58, 38))
    d.ellipse((w * 0.6, w * 0.52, w * 0.74, w * 0.64), outline=(92, 58, 38), width=w // 40)
    d.rounded_rectangle((w * 0.24, w * 0.7, w * 0.72, w * 0.74), radius=w * 0.02, fill=(92, 58, 38))
    # a leaf rising from the cup like steam
    d.ellipse((w * 0.4, w * 0.24, w * 0.56, w * 0.46), fill=(217, 98, 43))
    d.line((w * 0.44, w * 0.44, w * 0.53, w * 0.26), fill=(255, 244, 228), width=w // 90)
    small = img.resize((size, size), Image.LANCZOS)
    alpha = Image.new("L", (size, size), 0)
    ImageDraw.Draw(alpha).ellipse((size * 0.04 + 2, size * 0.04 + 2, size * 0.96 - 2, size * 0.96 - 2), fill=255)
    small.putalpha(ImageChops.multiply(small.getchannel("A"), soft(alpha, 1.2)))
    return small


def ice_cube(width: int) -> Image.Image:
    """A translucent ice cube: a pale rounded square with a bright edge and a glint."""
    w = width * SS
    img = Image.new("RGBA", (w, w), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((w * 0.05, w * 0.05, w * 0.95, w * 0.95), radius=w * 0.18, fill=(225, 248, 250, 150),
                        outline=(255, 255, 255, 230), width=w // 18)
    d.rounded_rectangle((w * 0.22, w * 0.2, w * 0.42, w * 0.3), radius=w * 0.05, fill=(255, 255, 255, 220))
    return _finish(img)


def iced_glass(width: int) -> Image.Image:
    """A tumbler of iced coffee: dark coffee, a milk swirl, ice cubes at the top and a striped straw."""
    w, h = width * SS, int(width * 1.6) * SS
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    top, bottom = h * 0.18, h * 0.98
    d.line((w * 0.62, h * 0.0, w * 0.5, h * 0.6), fill=(255, 255, 255), width=w // 14)  # straw
    for k in range(4):
        y = h * (0.02 + 0.05 * k)
        d.line((w * (0.62 - 0.02 * k), y, w * (0.61 - 0.02 * k), y + h * 0.025), fill=(217, 98, 43), width=w // 14)
    d.polygon([(w * 0.06, top), (w * 0.94, top), (w * 0.86, bottom), (w * 0.14, bottom)], fill=(232, 246, 248, 110))
    d.polygon([(w * 0.09, h * 0.3), (w * 0.91, h * 0.3), (w * 0.86, bottom - h * 0.03), (w * 0.14, bottom - h * 0.03)],
              fill=(74, 44, 28))
    d.ellipse((w * 0.2, h * 0.32, w * 0.8, h * 0.46), fill=(196, 150, 110))  # milk swirl
    d.ellipse((w * 0.3, h * 0.36, w * 0.7, h * 0.43), fill=(120, 80, 52))
    for cx, cy in ((0.3, 0.27), (0.55, 0.25), (0.72, 0.3)):
        d.rounded_rectangle((w * (cx - 0.12), h * (cy - 0.06), w * (cx + 0.12), h * (cy + 0.06)), radius=w * 0.04,
                            fill=(235, 250, 252, 200), outline=(255, 255, 255, 240), width=w // 60)
    d.polygon([(w * 0.12, top + h * 0.02), (w * 0.18, top + h * 0.02), (w * 0.24, bottom - h * 0.05), (w * 0.19, bottom - h * 0.05)],
              fill=(255, 255, 255, 120))  # glass highlight
    return _finish(img)
