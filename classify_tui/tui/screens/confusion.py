"""The confusion matrix: counts coloured by size; Enter opens that cell's images in Review."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ...core.review_rows import KINDS, count_kinds, read_review
from ..widgets.footer import AppFooter
from .review import KIND_PLURAL


def cell_text(n: int, biggest: int, diagonal: bool) -> Text:
    if n == 0:
        return Text("·", style="dim", justify="right")
    level = n / max(biggest, 1)
    if diagonal:
        style = "bold green" if level > 0.5 else "green"
    else:
        style = "bold white on red" if level > 0.5 else ("bold red" if level > 0.15 else "yellow")
    return Text(str(n), style=style, justify="right")


class ConfusionScreen(Screen):
    BINDINGS = [
        Binding("enter", "open_cell", "Review cell", id="cm.open"),
        Binding("v", "review_all", "Review all", id="cm.review"),
        Binding("o", "review_kind('outlier')", "Outliers", tooltip="Review filtered to images of no label",
                id="cm.outliers"),
        Binding("i", "data", "Data", id="cm.data"),
        Binding("t", "train", "Retrain", id="cm.train"),
        Binding("e", "export", "Export", id="cm.export"),
        Binding("escape", "app.pop_screen", "Back", show=False, id="cm.back"),
    ]

    def __init__(self, ws, report: dict) -> None:
        super().__init__()
        self.ws, self.report = ws, report

    def compose(self) -> ComposeResult:
        err = self.report.error_rate or 0.0
        yield Static(f"Confusion matrix — {self.ws.name}  (error {err:.3f}, rows = actual, columns = predicted)", id="title")
        yield DataTable(id="cm-table", cursor_type="cell")
        mc = ", ".join(f"{a}→{b} ×{n}" for a, b, n in self.report.most_confused[:5])
        yield Static(f"most confused: {mc or 'none'}\n{self.queue_text()}", id="cm-help")
        yield AppFooter()

    def kind_counts(self) -> dict[str, int]:
        """Rows per issue kind in the review queue: the report's count, else read from the queue."""
        kinds = self.report.review_kinds
        if kinds:
            return kinds
        return count_kinds(read_review(self.ws.review_path))

    def queue_text(self) -> str:
        counts = self.kind_counts()
        if not any(counts.values()):
            return "review queue: not built yet (t trains and scores it)"
        parts = [f"{counts[k]} {KIND_PLURAL.get(k, k)}" for k in KINDS if counts.get(k)]
        return ("review queue: " + " · ".join(parts)
                + "  (v all, o outliers; enter on a cell shows exactly the images it counts)")

    def on_mount(self) -> None:
        labels, cm = self.report.labels, self.report.confusion_matrix
        table = self.query_one(DataTable)
        table.add_column("actual \\ pred", key="__actual")
        for lab in labels:
            table.add_column(lab, key=lab)
        biggest = max((cm[i][j] for i in range(len(cm)) for j in range(len(cm)) if i != j), default=1)
        diag_big = max((cm[i][i] for i in range(len(cm))), default=1)
        for i, lab in enumerate(labels):
            cells = [cell_text(cm[i][j], diag_big if i == j else biggest, i == j) for j in range(len(labels))]
            table.add_row(Text(lab, style="bold"), *cells, key=lab)
        table.cursor_coordinate = table.cursor_coordinate._replace(column=1)

    def action_open_cell(self) -> None:
        table = self.query_one(DataTable)
        row, col = table.cursor_coordinate
        labels = self.report.labels
        if col == 0:
            self.app.open_review(self.ws, label=labels[row])
        else:
            self.app.open_review(self.ws, cell=(labels[row], labels[col - 1]))

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        self.action_open_cell()

    def action_review_all(self) -> None:
        self.app.open_review(self.ws)

    def action_review_kind(self, kind: str) -> None:
        if not self.kind_counts().get(kind):
            self.notify(f"no {kind} images in the review queue")
            return
        self.app.open_review(self.ws, kind=kind)

    def action_data(self) -> None:
        self.app.open_data(self.ws)

    def action_train(self) -> None:
        self.app.open_train(self.ws, from_stage="train")

    def action_export(self) -> None:
        self.app.open_export(self.ws)
