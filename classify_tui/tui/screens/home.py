"""Home: the workspaces, with labels, image counts, error rate and last run."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...core.workspace import list_workspaces


class HomeScreen(Screen):
    BINDINGS = [Binding("enter", "open", "Open", id="home.open"), Binding("r", "refresh", "Refresh", id="home.refresh")]

    def compose(self) -> ComposeResult:
        yield Static("classify-tui — workspaces", id="title")
        yield DataTable(id="home-table", cursor_type="row")
        yield Static("Create one headless: classify-tui build --source digits  (or --labels bird,kitten,puppy)", id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("name", "labels", "images", "error", "last run")
        self.action_refresh()

    def action_refresh(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for ws in list_workspaces(self.app.datasets):
            rep = ws.load_report()
            labels = rep.get("labels") or ws.load_recipe().labels
            kept = rep.get("counts", {}).get("verify", {}).get("kept_total", "-")
            err = rep.get("error_rate")
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(ws.recipe_path.stat().st_mtime))
            table.add_row(ws.name, ",".join(labels)[:40], str(kept), f"{err:.3f}" if err is not None else "-", when,
                          key=ws.name)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.app.open_workspace(str(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_workspace(str(event.row_key.value))
