"""Screenshots compared with the references under tests/e2e/reference/: "the pages look as before".

`assert_looks_as_before(locator, "board-topbar", mask=[...])` takes a screenshot of one region of a
page (CSS pixels, animations stopped, caret hidden, what changes with the clock or the log's head
masked) and compares it with `reference/board-topbar.png`: the share of pixels whose colour moved
by more than THRESHOLD in any channel must stay within `tolerance`. A visible change (a moved
button, another font size, a missing badge) differs in thousands of pixels and fails; the failing
shot and a picture of the difference are kept under test-artifacts/looks/.

Regions, not whole pages: what a page shows depends on the hour (the demo is seeded relative to
now, the 16:00 cut-off, the shift on duty), so each page is compared where it is stable: its
sign-in card, its header and, for the board and replay, the map and a table.

A change meant to be seen is re-baselined on purpose: `python -m tests.e2e.rebaseline` (or
`YINGJI_REBASELINE=1` on the browser tests) writes the references anew; commit them with the change.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

REFERENCE = Path(__file__).resolve().parent / "reference"
ARTIFACTS = ROOT / "test-artifacts" / "looks"
REBASELINE = os.environ.get("YINGJI_REBASELINE", "").lower() in ("1", "true", "yes")
THRESHOLD = 48  # a channel moving by more than this (of 255) is a changed pixel, not anti-aliasing
TOLERANCE = 0.003  # the share of changed pixels a region may have


def shot(target: Any, mask: list[Any] | tuple[Any, ...] = ()) -> bytes:
    """A PNG of a page or locator as the eye sees it, still: CSS pixels, no animation, no caret."""
    return target.screenshot(mask=list(mask), animations="disabled", caret="hide", scale="css")  # type: ignore[no-any-return]


def small(image: Any, like: Any = None) -> Any:
    """The image in 256 colours (references stay small in git): its own palette, or the reference's, so
    the same screen maps to the same picture and only a real change differs."""
    from PIL import Image

    rgb = image.convert("RGB")
    if like is None:
        return rgb.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return rgb.quantize(palette=like, dither=Image.Dither.NONE) if like.mode == "P" else rgb


def changed_share(actual: Any, reference: Any) -> tuple[float, Any]:
    """The share of pixels that differ visibly, and a black-and-white picture of where."""
    from PIL import ImageChops

    a, b = actual.convert("RGB"), reference.convert("RGB")
    if a.size != b.size:
        return 1.0, None
    r, g, bl = ImageChops.difference(a, b).split()
    worst = ImageChops.lighter(ImageChops.lighter(r, g), bl)
    where = worst.point(lambda v: 255 if v > THRESHOLD else 0)
    changed = where.histogram()[255]
    return changed / (a.size[0] * a.size[1]), where


def assert_looks_as_before(target: Any, name: str, mask: list[Any] | tuple[Any, ...] = (), tolerance: float = TOLERANCE) -> None:
    from PIL import Image

    png = shot(target, mask)
    reference = REFERENCE / f"{name}.png"
    if REBASELINE:
        REFERENCE.mkdir(parents=True, exist_ok=True)
        small(Image.open(io.BytesIO(png))).save(reference, optimize=True)
        return
    assert reference.exists(), f"no reference {reference.name}: run `python -m tests.e2e.rebaseline` and commit tests/e2e/reference/"
    actual = Image.open(io.BytesIO(png))
    kept = Image.open(reference)
    share, where = changed_share(small(actual, kept), kept)
    if share > tolerance:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        actual.save(ARTIFACTS / f"{name}.png")
        if where is not None:
            where.save(ARTIFACTS / f"{name}-diff.png")
        size = f"{actual.size} vs reference {Image.open(reference).size}"
        raise AssertionError(f"{name} looks different: {share:.2%} of its pixels changed (at most {tolerance:.2%} allowed; {size}); "
                             f"see {ARTIFACTS}/{name}.png and -diff.png, or re-baseline on purpose: python -m tests.e2e.rebaseline")
