"""Train: runs the core build in a thread worker; live progress, epoch table and cancel."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, ProgressBar, RichLog, Sparkline, Static

from ..messages import BuildFinished, CoreEvent
from .building import BuildScreen


class TrainScreen(BuildScreen):
    CANCELLED = "cancelled; the workspace is unchanged and resumable"
    BINDINGS = [
        Binding("x", "cancel", "Cancel run", id="train.cancel"),
        Binding("i", "data", "Browse data", id="train.data"),
        Binding("escape", "back", "Back", id="train.back"),
    ]

    def __init__(self, ws, from_stage: str | None = None) -> None:
        super().__init__(ws)
        self.from_stage = from_stage
        self.losses: list[float] = []

    def compose(self) -> ComposeResult:
        recipe = self.ws.load_recipe()
        yield Static(f"Train — {self.ws.name}: {recipe.arch}, size {recipe.size or 'auto'}, "
                     f"{recipe.epochs or 'auto'} epochs, device {recipe.device}", id="title")
        yield ProgressBar(id="progress", show_eta=False)
        yield Static("", id="status")
        yield Sparkline([], id="loss-curve")
        yield DataTable(id="epochs")
        yield RichLog(id="log", wrap=True, markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("stage", "epoch", "train loss", "valid loss", "error", "img/s")
        self.start_build(from_stage=self.from_stage)

    def on_core_event(self, message: CoreEvent) -> None:
        ev = message.event
        bar = self.query_one(ProgressBar)
        if ev.total:
            bar.update(total=ev.total, progress=ev.done or 0)
        if ev.kind == "batch" and "loss" in ev.data:
            self.losses.append(ev.data["loss"])
            self.query_one(Sparkline).data = self.losses[-300:]
            d = ev.data
            self.query_one("#status", Static).update(
                f"[b]{ev.stage}[/b] epoch {d.get('epoch')}/{d.get('epochs')} batch {ev.done}/{ev.total}  "
                f"loss {d['loss']:.3f}  {d.get('images_per_s', 0):.0f} img/s   (loss curve below, x cancels)")
        if ev.kind == "info" and "device" in ev.data:
            d = ev.data
            self.query_one("#title", Static).update(
                f"Train — {self.ws.name}: {d['arch']}, size {d['size']}, {d['epochs']} epochs, "
                f"device [b]{d['device']}[/b] (asked: {self.ws.load_recipe().device}), lr {d['lr']:g}")
        if ev.kind == "epoch":
            d = ev.data
            self.query_one(DataTable).add_row(ev.stage, f"{d.get('epoch')}/{d.get('epochs')}",
                                              f"{d.get('train_loss', 0):.3f}", f"{d.get('valid_loss', 0):.3f}",
                                              f"{d.get('error_rate', 0):.3f}", f"{d.get('images_per_s', 0):.0f}")
        elif ev.kind in ("start", "end", "info", "warning") and ev.message:
            self.query_one(RichLog).write(f"[{ev.stage}] {ev.message}")

    def on_build_finished(self, message: BuildFinished) -> None:
        self.running = False
        log = self.query_one(RichLog)
        if message.error:
            log.write(f"stopped: {message.error}")
            self.notify(message.error, severity="warning")
        else:
            err = (message.report or {}).get("error_rate")
            log.write(f"done: error rate {err}. Press escape to see the confusion matrix.")
            self.notify(f"build finished, error {err}")

    def show_cancelling(self) -> None:
        self.query_one(RichLog).write("cancelling...")

    def action_data(self) -> None:
        """Look through the images while training goes on (this screen and its worker stay)."""
        self.app.open_data(self.ws)

    def action_back(self) -> None:
        running = self.running
        super().action_back()
        if not running:
            self.app.refresh_workspace(self.ws)
