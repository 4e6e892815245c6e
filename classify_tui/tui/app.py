"""The Textual app: a thin view over classify_tui.core (harlequin/posting/toolong style)."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from ..core.cleaning import Decision, recover_if_idle
from ..core.workspace import Workspace
from .thumbs import ThumbCache


class ClassifyApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "classify-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        # priority: the screens' own ctrl+c copies selected text; here it quits, as the README says
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.ctrl_c"),
        Binding("question_mark", "show_help_panel", "Keys", id="app.help"),
    ]

    def __init__(self, datasets: Path, exports: Path, name: str | None = None, image_widget_class=None) -> None:
        super().__init__()
        self.datasets, self.exports, self.initial = Path(datasets), Path(exports), name
        self.marks: dict[str, dict[str, Decision]] = {}  # per workspace, survive filter and screen changes
        if image_widget_class is None:
            from textual_image.widget import Image as image_widget_class
        self.image_widget_class = image_widget_class
        self.current_ws: Workspace | None = None
        self.cancel_events: list[threading.Event] = []  # running builds', so quitting stops them
        self.thumbs = ThumbCache()  # shared by every gallery, so going back and forth decodes nothing twice

    def export_screenshot(self, *, title: str | None = None, simplify: bool = False) -> str:
        """Textual's SVG, marked to keep its spaces: without xml:space="preserve", rasterisers such
        as rsvg-convert drop the space that begins a text run after a bold word ("3p=1.000")."""
        svg = super().export_screenshot(title=title, simplify=simplify)
        return svg.replace("<svg ", '<svg xml:space="preserve" ', 1)

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """Textual saves to the Downloads folder, which a GPU box reached over SSH rarely has (the
        palette's "Screenshot" then only said "Failed"): without one, save where the app started."""
        if path is None:
            from platformdirs import user_downloads_path

            downloads = user_downloads_path()
            path = str(downloads if downloads.is_dir() else Path.cwd())
        return super().deliver_screenshot(filename, path, time_format)

    async def action_quit(self) -> None:
        """Quit, and stop any training thread at its next batch instead of leaving it running."""
        for ev in self.cancel_events:
            ev.set()
        self.exit()

    def on_mount(self) -> None:
        from .screens.home import HomeScreen

        self.push_screen(HomeScreen())
        if self.initial:
            self.open_workspace(self.initial)

    def open_workspace(self, name: str) -> None:
        from .screens.confusion import ConfusionScreen

        ws = Workspace(self.datasets / name)
        if not ws.exists():
            self.notify(f"no workspace {name} in {self.datasets}", severity="error")
            return
        recover_if_idle(ws)
        self.current_ws = ws
        report = ws.load_report()
        if report.trained:
            self.push_screen(ConfusionScreen(ws, report))
        elif ws.review_path.exists():
            self.open_review(ws)
        else:
            self.open_data(ws)
            self.notify(f"{name} is not trained yet: press t to train")

    def create_workspace(self, req) -> None:
        """From the New form: save the recipe, then fetch the data live on the Data screen."""
        from ..core.recipes import apply_options, prepare
        from ..core.rerun import plan_rerun

        ws, recipe = prepare(self.datasets, req.labels, req.source, req.name or None)
        stored = ws.load_recipe() if ws.exists() else None
        apply_options(recipe, {"per_label": req.per_label or None, "queries": req.queries, "excludes": req.excludes})
        plan = plan_rerun(ws, stored, recipe)  # an existing workspace with new options: say what is redone
        if plan.message():
            self.notify(f"{ws.name}: {plan.message()}")
        ws.ensure()
        ws.save_recipe(recipe)
        self.current_ws = ws
        self.open_data(ws, run=True, from_stage=plan.from_stage)

    def use_prepared_copies(self, ws: Workspace) -> None:
        """Thumbnails of big photos decode from the small copies training made (core/prepared.py)."""
        from ..core.prepared import ImageRef, prepared_copies
        from ..core.workspace import KEPT

        recipe = ws.load_recipe()
        refs = [ImageRef(ws.root / r.path, r.sha256, r.width, r.height)
                for r in ws.load_manifest().values() if r.status == KEPT and r.path]
        self.thumbs.add_copies(prepared_copies(ws.root, refs, recipe.size or 224))

    def open_data(self, ws: Workspace, run: bool = False, from_stage: str | None = None) -> None:
        from .screens.data import DataScreen

        self.use_prepared_copies(ws)
        self.push_screen(DataScreen(ws, run=run, from_stage=from_stage))

    def open_export(self, ws: Workspace) -> None:
        from .screens.export import ExportScreen

        self.push_screen(ExportScreen(ws))

    def open_review(self, ws: Workspace, label: str | None = None, cell: tuple[str, str] | None = None,
                    kind: str | None = None) -> None:
        from .screens.review import ReviewScreen

        self.use_prepared_copies(ws)
        self.push_screen(ReviewScreen(ws, ws.load_recipe().labels, label=label, cell=cell, kind=kind))

    def build_running(self, ws: Workspace) -> bool:
        """Whether a Train or Data screen in the stack is running a build of ``ws``."""
        return any(getattr(s, "running", False) and getattr(s, "ws", None) is not None
                   and s.ws.root == ws.root for s in self.screen_stack)

    def open_train(self, ws: Workspace, from_stage: str | None = None) -> None:
        from .screens.train import TrainScreen

        if self.build_running(ws):
            self.notify(f"{ws.name} is already building; escape goes back to it", severity="warning")
            return
        self.push_screen(TrainScreen(ws, from_stage))

    def refresh_workspace(self, ws: Workspace) -> None:
        from .screens.confusion import ConfusionScreen

        report = ws.load_report()
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if report.trained:
            self.push_screen(ConfusionScreen(ws, report))


def create_app(datasets: Path, exports: Path, name: str | None = None, image_widget_class=None) -> ClassifyApp:
    """App factory: tests build the app over a fixture workspace with a chosen image renderer."""
    return ClassifyApp(datasets, exports, name, image_widget_class)


def run_app(datasets: Path, exports: Path, name: str | None = None) -> None:
    # textual-image queries the terminal for its graphics support: import before the app starts.
    import textual_image.renderable  # noqa: F401

    create_app(datasets, exports, name).run()
