"""The apps' safe zones (compose/layout.py): a long title with a subheading, a long caption and logos
in the four corners are rendered for real over a flat background at 9:16, 16:9 and 1:1; each
overlay's bounding box is found from the difference with the render without it and must lie
inside the zone. A wide (4:1) and a tall (1:2) logo placed as the `logo` column places them get
the same height."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from sheet2video.engine.compose.layout import safe_area, shares
from sheet2video.engine.media.probe import probe
from sheet2video.engine.render import Caption, RenderTask, Shot, TextOverlay, render
from sheet2video.engine.timeline.extras import sticker_for
from sheet2video.engine.timeline.material import MediaCatalog
from tests.media import make_image, make_video

SIZES = [(180, 320), (320, 180), (240, 240)]
CORNERS = ["TopLeft", "TopRight", "BottomLeft", "BottomRight"]


class Resolver:
    def __init__(self, root: Path):
        self.root = root

    def resolve(self, reference: str) -> Path:
        return self.root / reference


def frame(task: RenderTask) -> np.ndarray:
    """Frame 12 of a 1 s render: its luma (int16) — full resolution, where 4:2:0 chroma would
    smear an edge over a 2-px block."""
    render(task)
    with av.open(task.output) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == 12:
                return f.to_ndarray(format="gray").astype(np.int16)
    raise AssertionError("no frame 12")


def logo_stickers(root: Path, W: int, H: int) -> list:
    """The four corners as the script template writes them (zone margins, 6 % of the height), a
    wide logo on the left, a tall one on the right."""
    make_image(root / "wide.png", "160x40", "white")
    make_image(root / "tall.png", "40x80", "yellow")
    catalog, z = MediaCatalog(Resolver(root), probe), shares(W, H)
    out = []
    for corner in CORNERS:
        entry = {"MediaURL": "tall.png" if corner.endswith("Right") else "wide.png", "Height": 0.06, "Alignment": corner,
                 "X": z["right"] if corner.endswith("Right") else z["left"], "Y": z["bottom"] if corner.startswith("Bottom") else z["top"]}
        out.append(sticker_for(catalog, entry, W, H))
    return out


def box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the set pixels, inclusive."""
    ys, xs = np.nonzero(mask)
    assert len(xs), "the overlay drew nothing"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.fixture(scope="module", params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def renders(request, tmp_path_factory):
    W, H = request.param
    root = tmp_path_factory.mktemp(f"zones{W}x{H}")
    src = make_video(root / "flat.mp4", 1.2, f"{W}x{H}", color="0x336699")

    def task(name, **kw):
        return RenderTask(output=str(root / f"{name}.mp4"), width=W, height=H, duration=1.0,
                          shots=[Shot(src, "video", 0, 1, 1)], crf=0, **kw)

    plain = frame(task("plain"))
    stickers = logo_stickers(root, W, H)
    found = {
        "title": frame(task("title", titles=[TextOverlay("Grand opening sale this weekend on every single coffee machine"),
                                              TextOverlay("Everything in the shop is half price until Sunday", 1)])),
        "caption": frame(task("caption", captions=[Caption("Fresh coffee every single morning made at home with beans "
                                                            "roasted this week", 0, 1)])),
        "logos": frame(task("logos", stickers=stickers)),
    }
    return W, H, stickers, {k: np.abs(v - plain) > 30 for k, v in found.items()}


def inside(b: tuple[int, int, int, int], W: int, H: int) -> bool:
    safe = safe_area(W, H)
    x0, y0, x1, y1 = b
    return x0 >= safe.left and y0 >= safe.top and x1 < W - safe.right and y1 < H - safe.bottom


@pytest.mark.parametrize("overlay", ["title", "caption"])
def test_titles_and_captions_stay_in_the_zone_and_are_centred_in_it(renders, overlay):
    W, H, _, masks = renders
    b = box(masks[overlay])
    assert inside(b, W, H), (overlay, b, safe_area(W, H))
    safe = safe_area(W, H)
    # long enough to fill the zone's width: centred in the zone, not the frame (9:16's right margin is wider)
    assert abs((b[0] - safe.left) - (W - safe.right - 1 - b[2])) <= 4, (b, safe)


def test_every_logo_corner_is_inside_the_zone_at_its_corner(renders):
    W, H, stickers, masks = renders
    safe = safe_area(W, H)
    mask = masks["logos"]
    for corner, st in zip(CORNERS, stickers):
        rows = slice(0, H // 2) if corner.startswith("Top") else slice(H // 2, H)
        cols = slice(0, W // 2) if corner.endswith("Left") else slice(W // 2, W)
        part = np.zeros_like(mask)
        part[rows, cols] = mask[rows, cols]
        b = box(part)
        assert inside(b, W, H), (corner, b, safe)
        x_edge = b[0] - safe.left if corner.endswith("Left") else W - safe.right - 1 - b[2]
        y_edge = b[1] - safe.top if corner.startswith("Top") else H - safe.bottom - 1 - b[3]
        assert x_edge <= 1 and y_edge <= 1, (corner, b, safe)  # in the zone's corner, not just inside it


def test_a_wide_and_a_tall_logo_get_the_same_height_and_keep_their_shape(renders):
    W, H, stickers, _ = renders
    wide, tall = stickers[0], stickers[1]
    assert wide.height == tall.height == round(H * 0.06)
    assert abs(wide.width - 4 * wide.height) <= 1 and abs(tall.width - tall.height / 2) <= 1
