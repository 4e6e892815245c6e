"""Home: the workspaces, with labels, image counts, error rate and last run."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ...core.report import Report
from ...core.rerun import stages_done
from ...core.stage_results import VerifyResult
from ...core.workspace import Workspace, list_workspaces
from ..widgets.footer import AppFooter


def workspace_state(ws: Workspace, report: Report) -> str:
    """Where the workspace's loop stands, from the journal: what is current, what is not."""
    try:
        done = stages_done(ws)
    except Exception:  # noqa: BLE001 - an unreadable journal must not hide the workspace
        return "?"
    if "export" in done:
        return "exported"
    if "review" in done:
        return "reviewed"
    if "train" in done:
        return "review incomplete"
    if report.error_rate is not None:
        return "changed: t retrains"
    if "verify" in done:
        return "data only: t trains"
    return "not fetched"


class HomeScreen(Screen):
    BINDINGS = [
        Binding("enter", "open", "Open", id="home.open"),
        Binding("n", "new", "New", id="home.new"),
        Binding("i", "data", "Data", id="home.data"),
        Binding("t", "build", "Train/resume", id="home.build"),
        Binding("r", "refresh", "Refresh", id="home.refresh"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("classify-tui — workspaces", id="title")
        yield DataTable(id="home-table", cursor_type="row")
        yield Static("", id="home-empty")
        yield Static("n: new workspace (or headless: classify-tui build --source digits)", id="status")
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("name", "labels", "images", "error", "state", "last run")
        self.action_refresh()

    def action_refresh(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for ws in list_workspaces(self.app.datasets):
            rep = ws.load_report()
            labels = rep.labels or ws.load_recipe().labels
            verify = rep.result(VerifyResult)
            kept = verify.kept_total if verify else "-"
            err = rep.error_rate
            when = time.strftime("%b %d %H:%M", time.localtime(ws.recipe_path.stat().st_mtime))
            table.add_row(ws.name, ",".join(labels)[:24], str(kept), f"{err:.3f}" if err is not None else "-",
                          workspace_state(ws, rep), when, key=ws.name)
        empty = not table.row_count
        table.display = not empty
        self.query_one("#home-empty", Static).display = empty
        self.query_one("#home-empty", Static).update(
            f"No workspaces in {self.app.datasets} yet: n creates one (digits needs no network).")

    def selected(self) -> Workspace | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            self.notify("no workspaces yet: press n to create one")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return Workspace(self.app.datasets / str(key))

    def action_open(self) -> None:
        ws = self.selected()
        if ws is not None:
            self.app.open_workspace(ws.name)

    def action_data(self) -> None:
        ws = self.selected()
        if ws is not None:
            self.app.current_ws = ws
            self.app.open_data(ws)

    def action_build(self) -> None:
        ws = self.selected()
        if ws is not None:
            self.app.current_ws = ws
            self.app.open_train(ws)

    def action_new(self) -> None:
        from .new import NewWorkspace

        def created(req) -> None:
            if req is not None:
                self.app.create_workspace(req)

        self.app.push_screen(NewWorkspace(), created)

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_workspace(str(event.row_key.value))
