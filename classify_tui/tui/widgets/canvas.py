"""A square canvas drawn in half-block cells: each terminal cell shows two pixels, one above the
other, so a cell-wide, half-cell-high pixel is about square on a usual 1:2 terminal cell.

Draw with the mouse (press and drag: works in tmux and over SSH wherever the terminal reports
the mouse) or the keyboard (arrows move the brush, space paints a dab, shift+arrows or the pen
toggle paint as the brush moves). Strokes are kept as points normalised to the square's side
(core/drawing.py), so resizing the terminal rescales the drawing instead of cropping it.
"""

from __future__ import annotations

from typing import Any

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from ...core.drawing import BRUSH, Point, raster

MAX_SIDE = 96  # pixels: a bigger canvas draws no better, and redraws slower
STEPS = 32  # keyboard: brush positions across the side
CURSOR_UP, CURSOR_DOWN = (40, 110, 255), (230, 30, 30)  # the brush's footprint: pen up (blue) or down (red)

_ARROWS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> Color:
    return Color.from_rgb(*(round(x * (1 - t) + y * t) for x, y in zip(a, b)))


def halfblock_text(img: Any, side: int) -> Text:
    """A PIL image as ``side`` columns by ``side // 2`` rows of half blocks (upper pixel in the
    foreground, lower in the background): the model's input shown beside the canvas."""
    from PIL import Image

    im = img.convert("RGB").resize((side, side - side % 2), Image.BOX)
    px = im.load()
    text = Text()
    for row in range(im.height // 2):
        for x in range(side):
            text.append("▀", Style(color=Color.from_rgb(*px[x, 2 * row]), bgcolor=Color.from_rgb(*px[x, 2 * row + 1])))
        if row < im.height // 2 - 1:
            text.append("\n")
    return text


class Canvas(Widget, can_focus=True):
    """The drawing: ``strokes`` (lists of normalised points), a brush cursor, and a pen state."""

    DEFAULT_CSS = "Canvas { width: auto; height: 1fr; }"  # auto: as wide as the square (get_content_width)
    BINDINGS = [
        *[Binding(k, f"move({dx}, {dy})", k.capitalize(), show=False, id=f"canvas.{k}")
          for k, (dx, dy) in _ARROWS.items()],
        *[Binding(f"shift+{k}", f"move({dx}, {dy}, True)", f"Paint {k}", show=False, id=f"canvas.paint_{k}")
          for k, (dx, dy) in _ARROWS.items()],
        Binding("space", "dab", "Paint", tooltip="paint at the brush; arrows move it", id="canvas.dab"),
        Binding("b", "pen", "Pen", tooltip="pen down/up: while down, the arrows paint as they move",
                id="canvas.pen"),
    ]

    class Changed(Message):
        """The strokes (or the pen) changed."""

        def __init__(self, canvas: Canvas) -> None:
            super().__init__()
            self.canvas = canvas

    def __init__(self, ink: tuple[int, int, int], paper: tuple[int, int, int], brush: float = BRUSH,
                 room: int = 0, **kwargs: Any) -> None:
        """``room``: columns to leave to the widgets beside the canvas when its width is auto."""
        super().__init__(**kwargs)
        self.ink, self.paper, self.brush, self.room = ink, paper, brush, room
        self.strokes: list[list[Point]] = []
        self.cursor: Point = (0.5, 0.5)
        self.pen_down = False
        self.version = 0  # bumped by every change of the strokes
        self._dragging = False
        self._raster_key: tuple[int, int] | None = None
        self._raster: Any = None
        self._cells_key: tuple[Any, ...] | None = None
        self._cells: Any = None

    # -- the drawing -------------------------------------------------------------------------
    @property
    def is_empty(self) -> bool:
        return not any(self.strokes)

    def snapshot(self) -> list[list[Point]]:
        """A copy of the strokes for a worker thread."""
        return [list(s) for s in self.strokes]

    def clear(self) -> None:
        self.strokes.clear()
        self._changed()

    def undo(self) -> bool:
        if not self.strokes:
            return False
        self.strokes.pop()
        self._changed()
        return True

    def _changed(self) -> None:
        self.version += 1
        self.refresh()
        self.post_message(self.Changed(self))

    def _extend(self, old: Point, new: Point) -> None:
        """Paint from old to new: continue the last stroke if it ends at old, else start one."""
        if self.strokes and self.strokes[-1] and self.strokes[-1][-1] == old:
            self.strokes[-1].append(new)
        else:
            self.strokes.append([old, new])

    # -- geometry ----------------------------------------------------------------------------
    def get_content_width(self, container: Size, viewport: Size) -> int:
        """As wide as the largest square that fits: the widgets beside it start where it ends."""
        n = min(container.width - self.room, 2 * container.height, MAX_SIDE)
        return max(n - n % 2, 2)

    def grid(self) -> tuple[int, int, int]:
        """(n, x0, y0): the square is n x n pixels, n columns by n / 2 rows, its top-left cell
        at (x0, y0) in the content area (centred)."""
        w, h = self.content_size
        n = min(w, 2 * h, MAX_SIDE)
        n -= n % 2
        return max(n, 0), max((w - n) // 2, 0), max((h - n // 2) // 2, 0)

    def _point(self, event: events.MouseEvent, clamp: bool) -> Point | None:
        """The event's position in normalised canvas units, or None outside (unless ``clamp``).
        Terminals that report cells (not pixels) put the pointer at the cell's centre."""
        n, x0, y0 = self.grid()
        if n == 0:
            return None
        region = self.content_region
        fx = event.pointer_screen_x - region.x - x0
        fy = event.pointer_screen_y - region.y - y0
        fx += 0.5 if fx == int(fx) else 0.0
        fy += 0.5 if fy == int(fy) else 0.0
        x, y = fx / n, 2 * fy / n
        if not clamp and not (0 <= x <= 1 and 0 <= y <= 1):
            return None
        return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)

    # -- mouse -------------------------------------------------------------------------------
    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button not in (0, 1):  # the left button (0 where a terminal does not say)
            return
        p = self._point(event, clamp=False)
        if p is None:
            return
        event.stop()
        self.capture_mouse()
        self._dragging = True
        self.cursor = p
        self.strokes.append([p])
        self._changed()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self._dragging:
            return
        event.stop()
        p = self._point(event, clamp=True)
        if p is not None and p != self.strokes[-1][-1]:
            self.cursor = p
            self.strokes[-1].append(p)
            self._changed()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            event.stop()
            self._dragging = False
            self.release_mouse()

    # -- keyboard ----------------------------------------------------------------------------
    def action_move(self, dx: int, dy: int, paint: bool = False) -> None:
        old = self.cursor
        new = (min(max(old[0] + dx / STEPS, 0.0), 1.0), min(max(old[1] + dy / STEPS, 0.0), 1.0))
        self.cursor = new
        if (paint or self.pen_down) and new != old:
            self._extend(old, new)
            self._changed()
        else:
            self.refresh()

    def action_dab(self) -> None:
        self.strokes.append([self.cursor])
        self._changed()

    def action_pen(self) -> None:
        self.pen_down = not self.pen_down
        if self.pen_down:
            self.action_dab()  # the pen touches the paper where the brush is
        else:
            self.refresh()
            self.post_message(self.Changed(self))  # the screen's hint says pen up

    # -- rendering ---------------------------------------------------------------------------
    def _pixel_kinds(self, n: int):
        """(n, n) uint8: 0 paper, 1 ink, 2 paper under the brush, 3 ink under the brush."""
        import numpy as np

        key = (n, self.version)
        if self._raster_key != key:
            self._raster_key, self._raster = key, raster(self.strokes, n, self.brush)
        ckey = (key, self.cursor)
        if self._cells_key != ckey:
            c = (np.arange(n) + 0.5) / n
            r2 = (self.brush / 2) ** 2
            under = (c[None, :] - self.cursor[0]) ** 2 + (c[:, None] - self.cursor[1]) ** 2 <= max(r2, (0.6 / n) ** 2)
            self._cells_key, self._cells = ckey, self._raster.astype(np.uint8) + 2 * under.astype(np.uint8)
        return self._cells

    def _colours(self) -> list[Color]:
        tint = CURSOR_DOWN if self.pen_down else CURSOR_UP
        return [Color.from_rgb(*self.paper), Color.from_rgb(*self.ink),
                _blend(self.paper, tint, 0.45), _blend(self.ink, tint, 0.45)]

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        base = self.rich_style
        n, x0, y0 = self.grid()
        row = y - y0
        if n == 0 or not 0 <= row < n // 2:
            return Strip.blank(width, base)
        kinds = self._pixel_kinds(n)
        colours = self._colours()
        top, bottom = kinds[2 * row].tolist(), kinds[2 * row + 1].tolist()
        segments = [Segment(" " * x0, base)] if x0 else []
        i = 0
        while i < n:  # runs of equal (upper, lower) pairs become one segment
            j = i
            while j < n and top[j] == top[i] and bottom[j] == bottom[i]:
                j += 1
            up, low = colours[top[i]], colours[bottom[i]]
            if top[i] == bottom[i]:
                segments.append(Segment(" " * (j - i), Style(bgcolor=up)))
            else:
                segments.append(Segment("▀" * (j - i), Style(color=up, bgcolor=low)))
            i = j
        if width - x0 - n > 0:
            segments.append(Segment(" " * (width - x0 - n), base))
        return Strip(segments, width)
