"""Draw: a canvas on the Export screen (key d) whose drawing the exported model predicts live.

The drawing goes through core/drawing.py to the image the workspace's source would have
written (for digits: scikit-learn's 8x8 encoding rendered by the digits source itself), then to
the same ``predict_paths`` as a typed path, as PNG bytes. ``s`` saves it as a training image
through core/adding.py: a manifest row, verify, a journal line that marks training stale."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import OptionList, Static

from ...core.drawing import drawing_png, is_empty, look_for
from ..widgets.canvas import Canvas, halfblock_text
from ..widgets.footer import AppFooter
from ..workers import call_core
from .export import prob_bars
from .review import PickLabel

DEBOUNCE_S = 0.15  # predict this long after the last stroke changed


class SaveAs(PickLabel):
    """Which label the drawing is saved under: digit keys pick directly, the prediction is
    highlighted."""

    def __init__(self, labels: list[str], suggested: str | None) -> None:
        super().__init__(labels)
        self.suggested = suggested

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.border_title = "save the drawing as"
        if self.suggested in self.labels:
            options.highlighted = self.labels.index(self.suggested)
        options.focus()

class DrawScreen(Screen):
    AUTO_FOCUS = "#canvas"
    BINDINGS = [
        Binding("c", "clear", "Clear", id="draw.clear"),
        Binding("u", "undo", "Undo", tooltip="remove the last stroke", id="draw.undo"),
        Binding("s", "save", "Save as", tooltip="add the drawing to the workspace's images under a label (t retrains)",
                id="draw.save"),
        Binding("escape", "back", "Back", id="draw.back"),
    ]

    def __init__(self, ws, dest: Path, model: Any = None) -> None:
        super().__init__()
        self.ws, self.dest, self.model = ws, Path(dest), model
        recipe = ws.load_recipe()
        self.labels = list(recipe.labels)
        cfg = json.loads((self.dest / "config.json").read_text())
        source = (cfg.get("classify_tui") or {}).get("source") or recipe.source  # what the model was trained on
        self.look = look_for(source)
        self.input_size = int(cfg.get("pretrained_cfg", {}).get("input_size", [3, 224, 224])[-1])
        self.prediction = None  # the latest Prediction shown, for the drawing as it is now
        self.seen: bytes = b""  # the PNG the model was given for it
        self._generation = 0  # bumped by every change: a result for an older drawing is dropped
        self._timer: Timer | None = None
        self._seen_version = -1  # the canvas version the last prediction was asked for
        self._model_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Static(f"Draw — {self.ws.name} · {self.dest}", id="title")
        yield Static("", id="draw-hint")
        with Horizontal(id="draw-body"):
            yield Canvas(self.look.ink, self.look.paper, room=34, id="canvas")  # 34: #draw-side's min-width
            with Vertical(id="draw-side"):
                yield Static("", id="draw-pred")
                yield Static("", id="draw-seen")
        yield AppFooter()

    def on_mount(self) -> None:
        self.show_hint()
        self.show_prediction()
        self.load_worker()  # the first stroke should not wait for the model to load

    def show_hint(self) -> None:
        pen = "[b]pen down[/b]: arrows paint" if self.query_one(Canvas).pen_down else "b: pen down"
        self.query_one("#draw-hint", Static).update(
            f"drag to draw · arrows move · space paints · shift+arrows paint · {pen}")

    # -- drawing -> prediction ---------------------------------------------------------------
    def on_canvas_changed(self, event: Canvas.Changed) -> None:
        self.show_hint()
        if event.canvas.version == self._seen_version:
            return  # the pen went up: nothing to predict again
        self._seen_version = event.canvas.version
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if event.canvas.is_empty:
            self.prediction, self.seen = None, b""
            self.show_prediction()
            return
        self._timer = self.set_timer(DEBOUNCE_S, self._predict_now)

    def _predict_now(self) -> None:
        self._timer = None
        self.predict_worker(self._generation, self.query_one(Canvas).snapshot())

    def _model(self):
        """The export, loaded once (by whichever worker asks first)."""
        from ...core.predict import load_exported

        with self._model_lock:
            if self.model is None:
                self.model = load_exported(self.dest)
            return self.model

    @work(thread=True, exclusive=True, group="draw-load")
    def load_worker(self) -> None:
        call_core(self, self._model, lambda _model: None)

    @work(thread=True, exclusive=True, group="draw-predict")
    def predict_worker(self, generation: int, strokes: list) -> None:
        from ...core.predict import predict_paths

        def predict():
            if generation != self._generation or is_empty(strokes):
                return None  # drawn on since: a newer prediction is on its way
            png = drawing_png(strokes, self.look, self.input_size)
            image = io.BytesIO(png)
            image.name = "drawing.png"
            return generation, png, predict_paths(self._model(), [image])[0]

        call_core(self, predict, self._predicted)

    def _predicted(self, result) -> None:
        if result is None or result[0] != self._generation or not self.is_attached:
            return  # an older drawing's, or the screen has been left
        _, self.seen, self.prediction = result
        self.show_prediction()

    def show_prediction(self) -> None:
        out = self.query_one("#draw-pred", Static)
        seen = self.query_one("#draw-seen", Static)
        pred = self.prediction
        if pred is None:
            out.update("draw a digit: the exported model predicts it as you draw" if self.look.kind != "plain"
                       else "draw: the exported model predicts the drawing as you draw")
            seen.update("")
            return
        if pred.error:
            out.update(f"[red]{pred.error}[/]")
            return
        out.update(f"predicted [b]{pred.label}[/b] · {100 * pred.prob:.0f}%\n\n{prob_bars(pred.probs)}")
        from PIL import Image
        from rich.text import Text

        rows_left = self.query_one("#draw-side").size.height - (2 + min(10, len(pred.probs))) - 2
        with Image.open(io.BytesIO(self.seen)) as im:
            picture = halfblock_text(im, max(8, min(16, 2 * rows_left)))  # 16 px where 8 rows are left
            w, h = im.size
        seen.update(Text(f"model input ({w}×{h} px):\n").append_text(picture))

    # -- keys --------------------------------------------------------------------------------
    def action_clear(self) -> None:
        self.query_one(Canvas).clear()

    def action_undo(self) -> None:
        self.query_one(Canvas).undo()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_save(self) -> None:
        canvas = self.query_one(Canvas)
        if canvas.is_empty:
            self.notify("draw something first", severity="warning")
            return
        strokes, version = canvas.snapshot(), canvas.version
        suggested = self.prediction.label if self.prediction and not self.prediction.error else None

        def chosen(label: str | None) -> None:
            if label:
                self.save_worker(strokes, label, version)

        self.app.push_screen(SaveAs(self.labels, suggested), chosen)

    @work(thread=True, group="draw-save")
    def save_worker(self, strokes: list, label: str, version: int) -> None:
        from ...core.adding import add_image

        def save():
            return add_image(self.ws, drawing_png(strokes, self.look, self.input_size), label, source="drawn")

        call_core(self, save, lambda row: self._saved(row, version))

    def _saved(self, row, version: int) -> None:
        self.app.notify(f"saved as {row.path} ({row.label}); training is out of date: t retrains")
        if not self.is_attached:
            return
        canvas = self.query_one(Canvas)
        if canvas.version == version:  # nothing drawn since: ready for the next drawing
            canvas.clear()
