"""Train: runs the core build in a thread worker; overall progress with time left, the loss
curve, an epoch table, cancel, and after the run a plain statement of what was kept."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, ProgressBar, RichLog, Sparkline, Static

from ...core.events import BatchDone, EpochDone, TrainingStarted
from ..messages import BuildFinished, CoreEvent
from ..stageprogress import StageProgress
from ..widgets.footer import AppFooter
from .building import BuildScreen

MODEL_STAGES = ("train", "review")


def speed_text(d: EpochDone) -> str:
    """'97 (91%)': training images per second, and that as a share of the model's own speed."""
    ips, model = d.images_per_s, d.model_images_per_s
    return f"{ips:.0f} ({ips / model:.0%})" if model else f"{ips:.0f}"


class TrainScreen(BuildScreen):
    CANCELLED = "cancelled"
    BINDINGS = [
        Binding("x", "cancel", "Cancel run", id="train.cancel"),
        Binding("i", "data", "Browse data", id="train.data"),
        Binding("escape", "back", "Back", id="train.back"),
    ]

    def __init__(self, ws, from_stage: str | None = None) -> None:
        super().__init__(ws)
        self.from_stage = from_stage
        self.losses: list[float] = []
        self.progress = StageProgress()
        self.finished_stages: list[str] = []  # stages this run completed
        self.current_stage = ""
        self.error_rate: float | None = None

    def compose(self) -> ComposeResult:
        recipe = self.ws.load_recipe()
        yield Static(f"Train — {self.ws.name}: {recipe.arch}, size {recipe.size or 'auto'}, "
                     f"{recipe.epochs or 'auto'} epochs, device {recipe.device}", id="title")
        yield ProgressBar(id="progress", total=1000, show_eta=False)
        yield Static("starting...", id="status")
        yield Sparkline([], id="loss-curve")
        yield DataTable(id="epochs")
        yield RichLog(id="log", wrap=True, markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("stage", "model", "epoch", "train loss", "valid loss", "error", "img/s (of model)")
        table.display = False  # an empty table says nothing: it appears with the first epoch
        self.start_build(from_stage=self.from_stage)

    def on_core_event(self, message: CoreEvent) -> None:
        ev = message.event
        if ev.kind == "start" and ev.stage != self.current_stage:
            self.current_stage = ev.stage
            self.losses = []
            self.query_one(ProgressBar).update(total=1000, progress=0)  # each stage fills its own bar
        changed = self.progress.update(ev)
        if changed and self.progress.fraction is not None:
            self.query_one(ProgressBar).update(total=1000, progress=round(1000 * self.progress.fraction))
        d = ev.data
        if isinstance(d, BatchDone):
            self.losses.append(d.loss)
            self.query_one(Sparkline).data = self.losses[-300:]
        if ev.kind in ("batch", "epoch", "progress", "start"):
            self.query_one("#status", Static).update(self.progress.text() or f"[b]{ev.stage}[/b] {ev.message}")
        if isinstance(d, TrainingStarted):
            self.query_one("#title", Static).update(
                f"Train — {self.ws.name}: {d.arch}, size {d.size}, {d.epochs} epochs, "
                f"device [b]{d.device}[/b] (asked: {self.ws.load_recipe().device}), lr {d.lr:g}")
        if isinstance(d, EpochDone):
            model = f"{d.model}/{d.models}" if d.models else "main" if ev.stage == "train" else "-"
            if ev.stage == "train":
                self.error_rate = d.error_rate
            table = self.query_one(DataTable)
            table.display = True
            table.add_row(ev.stage, model, f"{d.epoch}/{d.epochs}", f"{d.train_loss:.3f}", f"{d.valid_loss:.3f}",
                          f"{d.error_rate:.3f}", speed_text(d))
        elif ev.kind in ("start", "end", "info", "warning") and ev.message:
            self.query_one(RichLog).write(f"[{ev.stage}] {ev.message}")
        if ev.kind == "end":
            self.finished_stages.append(ev.stage)

    def outcome(self, error: str) -> str:
        """What the run left behind, in words: a cancel during review keeps the trained model."""
        trained_now = "train" in self.finished_stages
        if self.current_stage == "review" and "review" not in self.finished_stages:
            err = self.error_rate if trained_now else self.ws.load_report().error_rate
            err_s = f" (error {err:.3f})" if isinstance(err, (int, float)) else ""
            kept = f"the {'new' if trained_now else 'trained'} model{err_s} is kept"
            return (f"{error}: {kept}; the review queue is incomplete (it still lists the previous "
                    "scores, if any). t on Home resumes the review.")
        if trained_now:
            err_s = f" (error {self.error_rate:.3f})" if self.error_rate is not None else ""
            return f"{error}: the new model{err_s} is kept; t on Home resumes from {self.current_stage}."
        if self.current_stage in MODEL_STAGES or not self.finished_stages:
            return f"{error} during {self.current_stage or 'start'}: the previous model and the data are unchanged."
        return f"{error} during {self.current_stage}: what was fetched so far is kept."

    def on_build_finished(self, message: BuildFinished) -> None:
        self.running = False
        log = self.query_one(RichLog)
        status = self.query_one("#status", Static)
        if message.error:
            text = self.outcome(message.error) if message.error == self.CANCELLED else f"stopped: {message.error}"
            status.update(text + "  escape: back")
            log.write(text)
            self.notify(text, severity="warning")
        else:
            err = message.report.error_rate if message.report else None
            err_s = f"{err:.3f}" if isinstance(err, (int, float)) else "-"
            self.query_one(ProgressBar).update(total=1000, progress=1000)
            status.update(f"done: error rate {err_s}. escape: the confusion matrix and the review queue.")
            log.write(f"done: error rate {err_s}")
            self.notify(f"build finished, error {err_s}")

    def show_cancelling(self) -> None:
        self.query_one("#status", Static).update(f"cancelling {self.current_stage}... (at the next batch)")
        self.query_one(RichLog).write("cancelling...")

    def action_data(self) -> None:
        """Look through the images while training goes on (this screen and its worker stay)."""
        self.app.open_data(self.ws)

    def action_back(self) -> None:
        running = self.running
        super().action_back()
        if not running:
            self.app.refresh_workspace(self.ws)

