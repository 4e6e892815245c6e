"""Review: the out-of-fold queue as a gallery of real images; marks persist across filters."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static

from ...core.cleaning import Decision, apply_decisions, undo_last
from ...core.errors import UserError
from ...core.review_rows import ReviewRow, read_review
from ..widgets.fitimage import FitImage
from ..widgets.gallery import Gallery
from ..workers import call_core
from .imageview import ImageView

SPLITS = (None, "train", "valid")


class PickLabel(ModalScreen[str | None]):
    """Relabel picker."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="pick.cancel")]

    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels

    def compose(self) -> ComposeResult:
        yield OptionList(*self.labels, id="pick")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.labels[event.option_index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ReviewScreen(Screen):
    BINDINGS = [
        # the footer shows these in order: what matters most at 80 columns comes first
        Binding("d", "mark('delete')", "Delete", id="review.delete"),
        Binding("k", "mark('keep')", "Keep", id="review.keep"),
        Binding("r", "relabel", "Relabel", id="review.relabel"),
        Binding("a", "apply", "Apply", id="review.apply"),
        Binding("u", "undo", "Undo", id="review.undo"),
        Binding("t", "retrain", "Retrain", id="review.retrain"),
        Binding("l", "cycle_label", "Label", id="review.label"),
        Binding("s", "cycle_split", "Split", id="review.split"),
        Binding("c", "clear_cell", "All cells", id="review.cell"),
        Binding("e", "export", "Export", id="review.export"),
        Binding("escape", "app.pop_screen", "Back", id="review.back"),
        *[Binding(str(i), f"quick({i})", show=False, id=f"review.quick{i}") for i in range(10)],
    ]

    def __init__(self, ws, labels: list[str], label: str | None = None, cell: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.ws, self.labels = ws, labels
        self.label_filter, self.cell_filter, self.split_filter = label, cell, None
        self.queue: list[ReviewRow] = []
        self.report = ws.load_report()
        self._preview_timer = None
        self.shown: list[ReviewRow] = []

    @property
    def marks(self) -> dict[str, Decision]:
        return self.app.marks.setdefault(self.ws.name, {})

    def compose(self) -> ComposeResult:
        yield Static("", id="title")
        with Horizontal(id="review-body"):
            yield Gallery(self.ws.root, self.app.image_widget_class, self._caption, self.app.thumbs, id="gallery")
            with Vertical(id="review-side"):
                yield FitImage(self.app.image_widget_class, id="preview")
        yield Static("", id="details")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(Gallery).focus()

    def on_resize(self) -> None:
        # the large side preview only where there is room for it; Enter gives one anywhere
        self.query_one("#review-side").display = self.size.width >= 120

    def _caption(self, r: ReviewRow) -> str:
        mark = self._mark_text(r.path)
        head = f"{r.label}→{r.predicted}" if r.label != r.predicted else r.label
        why = r.reasons.split(";")[0].split(":")[0] if r.reasons else r.split
        return (f"[b]{head}[/b] {'[reverse]' + mark + '[/]' if mark else ''}\n"
                f"{r.p_label:.2f}/{r.p_predicted:.2f} {r.split[0]}\n[dim]{why}[/]")

    def reload(self, keep_cursor: bool = False) -> None:
        self.queue = [r for r in read_review(self.ws.review_path) if (self.ws.root / r.path).exists()]
        self.refilter(keep_cursor)

    def refilter(self, keep_cursor: bool = False) -> None:
        rows = self.queue
        if self.label_filter:
            rows = [r for r in rows if r.label == self.label_filter]
        if self.cell_filter:
            a, p = self.cell_filter
            if a != p and "misclassified" in self.report:  # exactly what the confusion matrix counted
                cell = {path for path, act, pred in self.report["misclassified"] if (act, pred) == (a, p)}
                rows = [r for r in rows if r.path in cell]
            else:
                rows = [r for r in rows if r.label == a and r.predicted == p]
        if self.split_filter:
            rows = [r for r in rows if r.split == self.split_filter]
        self.shown = rows
        self.query_one(Gallery).set_items(rows, keep_cursor)
        self.update_title()
        self.show_current()

    def update_title(self) -> None:
        """The title is derived from the filters and marks, never parsed back from the screen."""
        filters = [f"label={self.label_filter}" if self.label_filter else "",
                   f"cell={self.cell_filter[0]}→{self.cell_filter[1]}" if self.cell_filter else "",
                   f"split={self.split_filter}" if self.split_filter else ""]
        f = " ".join(x for x in filters if x) or "all"
        self.query_one("#title", Static).update(
            f"Review — {self.ws.name}: {len(self.shown)} of {len(self.queue)} images ({f}), {len(self.marks)} marked")

    def _mark_text(self, path: str) -> str:
        d = self.marks.get(path)
        if d is None:
            return ""
        return {"delete": "DEL", "keep": "keep"}.get(d.action, f"→{d.label}")

    def current(self) -> ReviewRow | None:
        return self.query_one(Gallery).current

    def _details(self, row: ReviewRow) -> str:
        return (f"[b]{row.path}[/b]  actual [b]{row.label}[/b] (p={row.p_label})  "
                f"predicted [b]{row.predicted}[/b] (p={row.p_predicted})  {row.split}  "
                f"mark: {self._mark_text(row.path) or '-'}\n{row.reasons or 'no other reasons'}")

    def show_current(self) -> None:
        row = self.current()
        details = self.query_one("#details", Static)
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if row is None:
            self.query_one("#preview").image = None
            details.update("nothing to review with these filters")
            return
        details.update(self._details(row))
        if self.query_one("#review-side").display:
            # The large preview is the slowest thing to draw: let the cursor and details paint
            # first, and skip it entirely while an arrow key is held down.
            path = str(self.ws.root / row.path)
            self._preview_timer = self.set_timer(0.06, lambda: self._show_preview(path))

    def _show_preview(self, path: str) -> None:
        self.query_one("#preview").image = path

    def on_gallery_highlighted(self, event: Gallery.Highlighted) -> None:
        self.show_current()

    def on_gallery_selected(self, event: Gallery.Selected) -> None:
        row = self.current()
        if row is not None:
            self.app.push_screen(ImageView(self.ws.root / row.path, self._details(row)))

    def _set_mark(self, decision: Decision | None) -> None:
        row = self.current()
        if row is None:
            return
        if decision is None:
            self.marks.pop(row.path, None)
        else:
            self.marks[row.path] = decision
        gallery = self.query_one(Gallery)
        gallery.refresh_item(gallery.cursor)
        self.update_title()
        if decision is not None:
            gallery.move_to(gallery.cursor + 1)
        self.show_current()

    def action_mark(self, action: str) -> None:
        row = self.current()
        if row:
            self._set_mark(Decision(row.path, action))

    def quick_label(self, n: int) -> str | None:
        """Key n picks the label named n if there is one (digits), else the n-th label (1-9)."""
        if str(n) in self.labels:
            return str(n)
        return self.labels[n - 1] if 1 <= n <= len(self.labels) else None

    def action_quick(self, n: int) -> None:
        row = self.current()
        label = self.quick_label(n)
        if row and label is not None:
            self._set_mark(Decision(row.path, "relabel", label))

    def action_relabel(self) -> None:
        row = self.current()
        if row is None:
            return

        def chosen(label: str | None) -> None:
            if label:
                self._set_mark(Decision(row.path, "relabel", label))

        self.app.push_screen(PickLabel(self.labels), chosen)

    def action_undo(self) -> None:
        row = self.current()
        if row and row.path in self.marks:
            self._set_mark(None)
            return
        if self.app.build_running(self.ws):
            self.notify("a build is reading these images: undo when it has finished", severity="warning")
            return
        try:
            n = undo_last(self.ws)
        except UserError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify(f"undid the last apply ({n} files moved back)")
        self.reload(keep_cursor=True)  # stay where the user was

    def action_cycle_label(self) -> None:
        opts = [None, *self.labels]
        self.label_filter = opts[(opts.index(self.label_filter) + 1) % len(opts)]
        self.refilter()

    def action_cycle_split(self) -> None:
        self.split_filter = SPLITS[(SPLITS.index(self.split_filter) + 1) % len(SPLITS)]
        self.refilter()

    def action_clear_cell(self) -> None:
        self.cell_filter = None
        self.refilter()

    def action_apply(self) -> None:
        if self.app.build_running(self.ws):
            self.notify("a build is reading these images: apply when it has finished", severity="warning")
            return
        if not self.marks:
            self.notify("nothing marked: d delete, r/1-9 relabel, k keep")
            return
        self.apply_worker(list(self.marks.values()))

    @work(thread=True, exclusive=True, group="apply")
    def apply_worker(self, decisions: list[Decision]) -> None:
        call_core(self, lambda: apply_decisions(self.ws, decisions), self._applied)

    def _applied(self, result) -> None:
        self.marks.clear()
        self.notify(f"applied: {result.summary()}. Press t to retrain, u to undo.")
        self.reload(keep_cursor=True)

    def action_retrain(self) -> None:
        self.app.open_train(self.ws, from_stage="train")


    def action_export(self) -> None:
        self.app.open_export(self.ws)
