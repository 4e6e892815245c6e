"""Export: write the safetensors export, show how to load it, and predict on a typed path or,
with d, on a drawing (screens/draw.py)."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from ...core.export import export_more, load_snippet
from ..widgets.fitimage import FitImage
from ..widgets.footer import AppFooter
from ..workers import call_core


def prob_bars(probs: dict[str, float], width: int = 16, top: int = 10) -> str:
    """Top-k probabilities as text bars, narrow enough for half of an 80-column screen."""
    shown = sorted(probs.items(), key=lambda kv: -kv[1])[:top]
    pad = min(max((len(k) for k, _ in shown), default=1), 14)
    return "\n".join(f"{k[:pad]:>{pad}} {'█' * round(p * width):<{width}} {p:.3f}" for k, p in shown)


class ExportScreen(Screen):
    AUTO_FOCUS = ""  # keys e, p and d act on the screen until the user asks for the path box
    BINDINGS = [
        Binding("e", "export", "Export", tooltip="write exports/NAME (the same key opens this screen)",
                id="export.export"),
        Binding("p", "focus_path", "Predict a file", id="export.predict"),
        Binding("o", "onnx", "ONNX", tooltip="export again with model.onnx (predict --runtime onnx)", id="export.onnx"),
        Binding("h", "space", "HF Space", tooltip="write exports/NAME/space/: a Gradio app for a Hugging Face Space",
                id="export.space"),
        Binding("d", "draw", "Draw", tooltip="draw on a canvas and watch the exported model predict it",
                id="export.draw"),
        Binding("escape", "back", "Back", id="export.back", priority=True),
    ]

    def __init__(self, ws) -> None:
        super().__init__()
        self.ws = ws
        self.dest = Path()  # set on mount, when the app is known
        self.model = None  # loaded lazily on the first prediction

    def compose(self) -> ComposeResult:
        yield Static(f"Export — {self.ws.name}", id="title")
        yield Static("", id="export-status")
        yield Static("", id="snippet")
        yield Input(placeholder="p: type a path to an image, then Enter to predict", id="predict-path")
        with Horizontal(id="predict-body"):
            yield FitImage(self.app.image_widget_class, id="predict-img")
            with Vertical():
                yield Static("", id="predict-out")
        yield AppFooter()

    def on_mount(self) -> None:
        self.dest = self.app.exports / self.ws.name
        self.show_status()

    def action_focus_path(self) -> None:
        self.query_one(Input).focus()

    def action_back(self) -> None:
        if self.focused is self.query_one(Input):
            self.set_focus(None)  # escape leaves the path box first, so e and p work again
        else:
            self.app.pop_screen()

    def show_status(self) -> None:
        status = self.query_one("#export-status", Static)
        snippet = self.query_one("#snippet", Static)
        if (self.dest / "model.safetensors").exists():
            size = (self.dest / "model.safetensors").stat().st_size / 1e6
            extra = "".join(f", {f}" for f in ("model.onnx", "space/") if (self.dest / f).exists())
            status.update(f"exported: [b]{self.dest}[/b]  (model.safetensors {size:.1f} MB, config.json, README.md"
                          f"{extra})   e exports again")
            snippet.update(load_snippet(self.dest))
        else:
            status.update("not exported yet: press e to export the trained model")
            snippet.update("")

    def action_export(self) -> None:
        self.export_worker(onnx=(self.dest / "model.onnx").exists())  # keep an ONNX copy current

    def action_onnx(self) -> None:
        self.notify("exporting with model.onnx ...")
        self.export_worker(onnx=True)

    @work(thread=True, exclusive=True, group="export")
    def export_worker(self, onnx: bool = False) -> None:
        call_core(self, lambda: export_more(self.ws, self.app.exports, lambda ev: None, onnx=onnx), self._exported)

    def action_space(self) -> None:
        if not (self.dest / "model.safetensors").exists():
            self.notify("export first (e)", severity="warning")
            return
        self.space_worker()

    @work(thread=True, exclusive=True, group="export")
    def space_worker(self) -> None:
        from ...core.space import write_space

        call_core(self, lambda: write_space(self.dest, self.app.datasets), self._space_written)

    def _space_written(self, space: Path) -> None:
        self.show_status()
        self.notify(f"Space written to {space}; upload: classify-tui space {self.ws.name} --push USER/NAME")

    def _exported(self, dest: Path) -> None:
        self.model = None  # the next prediction loads the new export
        self.dest = dest
        self.show_status()
        self.notify(f"exported to {dest}")

    def action_draw(self) -> None:
        if not (self.dest / "model.safetensors").exists():
            self.notify("export first (e)", severity="warning")
            return
        from .draw import DrawScreen

        self.app.push_screen(DrawScreen(self.ws, self.dest, self.model))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip():
            return
        if not (self.dest / "model.safetensors").exists():
            self.notify("export first (e)", severity="warning")
            return
        self.query_one("#predict-out", Static).update(f"predicting {path} ...")
        self.predict_worker(path)

    @work(thread=True, exclusive=True, group="predict")
    def predict_worker(self, path: Path) -> None:
        from ...core.predict import load_exported, predict_paths

        def predict():
            if self.model is None:
                self.model = load_exported(self.dest)
            return predict_paths(self.model, [path])[0]

        call_core(self, predict, lambda pred: self._predicted(path, pred))

    def _predicted(self, path: Path, pred) -> None:
        out = self.query_one("#predict-out", Static)
        img = self.query_one("#predict-img")
        if pred.error:
            img.image = None
            out.update(f"[red]{path}: {pred.error}[/]")
            return
        img.image = path  # decoded once at screen resolution and fitted, not a cropped thumbnail
        out.update(f"predicted [b]{pred.label}[/b] · {100 * pred.prob:.0f}%\n\n{prob_bars(pred.probs)}")
