"""Review: the out-of-fold queue as a gallery of real images; marks persist across filters.

Every row has a kind (label, outlier, duplicate, quality, ok), a plain reason and a suggested
action; captions say them in words, ``y`` accepts the suggestion, ``f`` filters by kind. Marking
does not move the cursor: the mark appears on the tile looked at, and the user moves on."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.cleaning import Decision, apply_decisions, undo_last
from ...core.errors import UserError
from ...core.rerun import stages_done
from ...core.review_rows import (
    DELETE,
    KEEP,
    KIND_TEXT,
    KINDS,
    LABEL,
    OK,
    OUTLIER,
    ReviewRow,
    read_review,
)
from ..widgets.fitimage import FitImage
from ..widgets.footer import AppFooter
from ..widgets.gallery import Gallery
from ..workers import call_core
from .imageview import ImageView

SPLITS = (None, "train", "valid")
SPLIT_TEXT = {"valid": "validation image", "train": "training image"}
KIND_PLURAL = {LABEL: "label issues", OUTLIER: "outliers", "duplicate": "duplicates", "quality": "bad images",
               OK: "without issue"}
KIND_SHORT = {LABEL: "label", OUTLIER: "outlier", "duplicate": "duplicate", "quality": "quality", OK: "ok"}


def pct(p: float) -> str:
    return f"{round(100 * p)}%"


def quick_label(labels: list[str], n: int) -> str | None:
    """Key n picks the label named n if there is one (digits), else the n-th label (1-9)."""
    if str(n) in labels:
        return str(n)
    return labels[n - 1] if 1 <= n <= len(labels) else None


def suggested_decision(row: ReviewRow) -> Decision:
    """What ``y`` marks: relabel for a label issue, delete for outliers (never a relabel: they
    belong to none of the labels), duplicates and bad images, keep otherwise."""
    if row.kind == LABEL and row.suggested_label:
        return Decision(row.path, "relabel", row.suggested_label)
    if row.kind in (OUTLIER, "duplicate", "quality") or row.suggestion == DELETE:
        return Decision(row.path, DELETE)
    return Decision(row.path, KEEP)


def short_reason(row: ReviewRow) -> str:
    """The first reason, without its numbers: 'too dark', 'near duplicate', ..."""
    first = row.reasons.split(";")[0].strip()
    return first.split(":")[0].split(" (")[0].strip()


def decision_text(d: Decision) -> str:
    return {"delete": "delete", "keep": "keep"}.get(d.action, f"relabel → {d.label}")


class PickLabel(ModalScreen[str | None]):
    """Relabel picker; each label shows the digit key that picks it directly."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="pick.cancel")] + [
        Binding(str(n), f"quick({n})", show=False, id=f"pick.quick{n}") for n in range(10)]

    def __init__(self, labels: list[str]) -> None:
        super().__init__()
        self.labels = labels

    def action_quick(self, n: int) -> None:
        """The digit shown beside a label picks it, as on the Review screen."""
        label = quick_label(self.labels, n)
        if label is not None:
            self.dismiss(label)

    def compose(self) -> ComposeResult:
        keys: dict[str | None, int] = {}
        for n in range(10):  # the first key that picks a label (with labels 0-3, 4 picks 3 too: show 3)
            keys.setdefault(quick_label(self.labels, n), n)
        yield OptionList(*[Option(f"{keys[lb]}  {lb}" if lb in keys else f"   {lb}") for lb in self.labels],
                         id="pick")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.labels[event.option_index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ReviewImageView(ImageView):
    """The large view from Review: the same marking keys act on the image shown."""

    BINDINGS = [
        Binding("d", "mark('delete')", "Delete", id="rview.delete"),
        Binding("k", "mark('keep')", "Keep", id="rview.keep"),
        Binding("y", "mark('accept')", "Accept", tooltip="mark the suggested action", id="rview.accept"),
        Binding("u", "mark('unmark')", "Unmark", id="rview.unmark"),
    ]

    def __init__(self, review: ReviewScreen, count: int, index: int, describe) -> None:
        super().__init__(count, index, describe)
        self.review = review

    def action_mark(self, what: str) -> None:
        gallery = self.review.query_one(Gallery)
        if gallery.cursor != self.index:
            gallery.move_to(self.index)  # marks act on the gallery's cursor: put it on this image
        if what == "accept":
            self.review.action_accept()
        elif what == "unmark":
            self.review._set_mark(None)
        else:
            self.review.action_mark(what)
        self.refresh_details()


class ReviewScreen(Screen):
    BINDINGS = [
        # the footer shows these in order: what matters most at 80 columns comes first
        Binding("d", "mark('delete')", "Delete", id="review.delete"),
        Binding("k", "mark('keep')", "Keep", id="review.keep"),
        Binding("y", "accept", "Accept", tooltip="mark the suggested action", id="review.accept"),
        Binding("r", "relabel", "Relabel", id="review.relabel"),
        Binding("a", "apply", "Apply", id="review.apply"),
        Binding("u", "undo", "Undo", tooltip="a mark, or else the last apply", id="review.undo"),
        Binding("f", "cycle_kind", "Kind", tooltip="filter: label, outlier, duplicate, quality, ok", id="review.kind"),
        Binding("t", "retrain", "Retrain", show=False, id="review.retrain"),
        Binding("l", "cycle_label", "Label filter", show=False, id="review.label"),
        Binding("s", "cycle_split", "Split filter", show=False, tooltip="training / validation images",
                id="review.split"),
        Binding("c", "clear_cell", "All cells", show=False, tooltip="leave the confusion cell", id="review.cell"),
        Binding("e", "export", "Export", show=False, id="review.export"),
        Binding("escape", "app.pop_screen", "Back", show=False, id="review.back"),
        Binding("0", "quick(0)", "Relabel as the digit's label", key_display="0-9", show=False,
                tooltip="the label named by the digit, else the Nth label", id="review.quick0"),
        *[Binding(str(i), f"quick({i})", system=True, id=f"review.quick{i}") for i in range(1, 10)],
    ]

    def __init__(self, ws, labels: list[str], label: str | None = None, cell: tuple[str, str] | None = None,
                 kind: str | None = None) -> None:
        super().__init__()
        self.ws, self.labels = ws, labels
        self.label_filter, self.cell_filter, self.split_filter, self.kind_filter = label, cell, None, kind
        self.queue: list[ReviewRow] = []
        self.scope: list[ReviewRow] = []  # after every filter but kind (the kind counts are of these)
        self.kind_counts: dict[str, int] = {}
        self.stale = False
        self.report = ws.load_report()
        self._preview_timer = None
        self.shown: list[ReviewRow] = []

    @property
    def marks(self) -> dict[str, Decision]:
        return self.app.marks.setdefault(self.ws.name, {})

    def compose(self) -> ComposeResult:
        yield Static("", id="title")
        yield Static("", id="kinds")
        yield Static("", id="cell-note")
        with Horizontal(id="review-body"):
            yield Gallery(self.ws.root, self.app.image_widget_class, self._caption, self.app.thumbs, id="gallery")
            with Vertical(id="review-side"):
                yield FitImage(self.app.image_widget_class, id="preview")
        yield Static("", id="details")
        yield AppFooter()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(Gallery).focus()

    def on_resize(self) -> None:
        # the large side preview only where there is room for it; Enter gives one anywhere
        self.query_one("#review-side").display = self.size.width >= 120

    # -- what the screen says -----------------------------------------------------------------
    def _caption(self, r: ReviewRow) -> str:
        """Three short lines in words: what it is, how sure and what to do, and the mark."""
        label = f"[b]{r.label}[/b]"
        if r.hard_to_learn:  # doubted from training or TTA, no better label (kind ok; label in old queues)
            first, second = f"{label} · hard to learn", f"{pct(r.p_label)} sure · check it"
        elif r.kind == LABEL or (r.kind == OK and r.disagrees):
            first = f"{label} → looks like [b]{r.predicted}[/b]"
            second = f"{pct(r.p_predicted)} · {r.suggestion_text if r.kind == LABEL else 'keep'}"
        elif r.kind == OUTLIER:
            first, second = f"{label} · fits no label", f"best {pct(r.p_predicted)} · delete"
        elif r.kind == OK:  # a reason on an ok row is a doubt worth reading ("low confidence")
            first, second = f"{label} · {short_reason(r) or 'no issue'}", f"{pct(r.p_label)} sure · keep"
        else:
            first = f"{label} · {short_reason(r) or KIND_SHORT.get(r.kind, r.kind)}"
            second = f"{KIND_SHORT.get(r.kind, r.kind)} · {suggested_decision(r).action}"
        mark = self.marks.get(r.path)
        if mark is not None:
            third = f"[reverse] marked: {decision_text(mark)} [/]"
        elif self.cell_filter and r.predicted != self.cell_filter[1]:
            third = f"[dim]matrix said {self.cell_filter[1]}[/]"
        else:
            third = f"[dim]{SPLIT_TEXT.get(r.split, r.split)}[/]"
        return f"{first}\n{second}\n{third}"

    def basis(self, r: ReviewRow) -> str:
        if r.basis:
            return r.basis
        return "models that never trained on it" + (" (main model + fold models)" if r.split == "valid" else "")

    def _details(self, row: ReviewRow, index: int | None = None) -> str:
        index = self.query_one(Gallery).cursor if index is None else index
        mark = self.marks.get(row.path)
        pred = (f"predicted [b]{row.predicted}[/b] {pct(row.p_predicted)}"
                + (f", {row.label} {pct(row.p_label)}" if row.disagrees else ""))
        matrix = f" · the matrix's main model said {self.cell_filter[1]}" if self.cell_filter else ""
        what = "label doubt" if row.hard_to_learn else KIND_TEXT.get(row.kind, row.kind)
        why = f": {row.reasons}" if row.reasons else ""
        # most important first: at 80 columns the ends of both lines are cut
        return (f"[b]{index + 1} / {len(self.shown)}[/b]  labelled [b]{row.label}[/b] · {pred} "
                f"by {self.basis(row)}{matrix} · {row.path}\n"
                f"mark: [b]{decision_text(mark) if mark else 'none'}[/b] · suggests {row.suggestion_text} (y) · "
                f"{what}{why}")

    def update_title(self) -> None:
        """The title is derived from the filters and marks, never parsed back from the screen."""
        filters = [f"kind {self.kind_filter}" if self.kind_filter else "",
                   f"label {self.label_filter}" if self.label_filter else "",
                   f"cell {self.cell_filter[0]}→{self.cell_filter[1]}" if self.cell_filter else "",
                   f"{self.split_filter} split" if self.split_filter else ""]
        f = ", ".join(x for x in filters if x) or "all"
        cursor = self.query_one(Gallery).cursor
        pos = f"{cursor + 1} / {len(self.shown)}" if self.shown else f"0 / {len(self.shown)}"
        self.query_one("#title", Static).update(
            f"Review — {self.ws.name}  [b]{pos}[/b]  ({f}; {len(self.queue)} in queue)  {len(self.marks)} marked",
            layout=False)

    def update_kinds(self) -> None:
        counts = self.kind_counts
        parts = [f"[reverse]{name} {n}[/]" if self.kind_filter == k or (k is None and not self.kind_filter)
                 else f"{name} {n}"
                 for k, name, n in [(None, "all", len(self.scope)), *((k, k, counts[k]) for k in counts)]]
        self.query_one("#kinds", Static).update("f kind: " + " · ".join(parts), layout=False)

    def current(self) -> ReviewRow | None:
        return self.query_one(Gallery).current

    def show_current(self) -> None:
        row = self.current()
        details = self.query_one("#details", Static)
        self.update_title()
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if row is None:
            self.query_one("#preview").image = None
            details.update("no images with these filters: f kind, l label, s split, c all cells")
            return
        details.update(self._details(row), layout=False)
        if self.query_one("#review-side").display:
            # The large preview is the slowest thing to draw: let the cursor and details paint
            # first, and skip it entirely while an arrow key is held down.
            path = str(self.ws.root / row.path)
            self._preview_timer = self.set_timer(0.06, lambda: self._show_preview(path))

    def _show_preview(self, path: str) -> None:
        self.query_one("#preview").image = path

    # -- the queue and its filters ------------------------------------------------------------
    def reload(self, keep_cursor: bool = False) -> None:
        self.queue = [r for r in read_review(self.ws.review_path) if (self.ws.root / r.path).exists()]
        try:
            done = stages_done(self.ws)
            self.stale = "train" in done and "review" not in done  # a newer model than these scores
        except Exception:  # noqa: BLE001 - an unreadable journal only loses the note
            self.stale = False
        self.refilter(keep_cursor)

    def refilter(self, keep_cursor: bool = False) -> None:
        rows = self.queue
        if self.label_filter:
            rows = [r for r in rows if r.label == self.label_filter]
        if self.cell_filter:
            a, p = self.cell_filter
            if a != p and self.report.trained:  # exactly what the confusion matrix counted
                cell = self.report.misclassified_in(a, p)
                rows = [r for r in rows if r.path in cell]
            else:
                rows = [r for r in rows if r.label == a and r.predicted == p]
        if self.split_filter:
            rows = [r for r in rows if r.split == self.split_filter]
        self.scope = rows
        self.kind_counts = {k: 0 for k in KINDS}
        for r in rows:
            self.kind_counts[r.kind] = self.kind_counts.get(r.kind, 0) + 1
        if self.kind_filter:
            rows = [r for r in rows if r.kind == self.kind_filter]
        self.shown = rows
        notes = []
        if self.stale:
            notes.append("These scores are from before the last training: its review did not finish "
                         "(t on Home resumes it).")
        if self.cell_filter and any(r.predicted != self.cell_filter[1] for r in rows):
            a, p = self.cell_filter
            notes.append(f"Cell {a}→{p}: the validation images labelled {a} that the main model predicted as {p} "
                         "(the matrix). Captions show the review's prediction, from models that never trained "
                         "on them; it can differ.")
        note = self.query_one("#cell-note", Static)
        note.display = bool(notes)
        note.update("\n".join(notes))
        self.query_one(Gallery).set_items(rows, keep_cursor)
        self.update_kinds()
        self.show_current()

    def on_gallery_highlighted(self, event: Gallery.Highlighted) -> None:
        self.show_current()

    def on_gallery_selected(self, event: Gallery.Selected) -> None:
        gallery = self.query_one(Gallery)

        def describe(i: int):
            return self.ws.root / self.shown[i].path, self._details(self.shown[i], i)

        def closed(index: int | None) -> None:
            if index is not None and index != gallery.cursor:
                gallery.move_to(index)

        if self.shown:
            self.app.push_screen(ReviewImageView(self, len(self.shown), gallery.cursor, describe), closed)

    # -- marks --------------------------------------------------------------------------------
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
        self.show_current()

    def action_mark(self, action: str) -> None:
        row = self.current()
        if row:
            self._set_mark(Decision(row.path, action))

    def action_accept(self) -> None:
        row = self.current()
        if row:
            self._set_mark(suggested_decision(row))

    def action_quick(self, n: int) -> None:
        row = self.current()
        label = quick_label(self.labels, n)
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

    def action_cycle_kind(self) -> None:
        present = [k for k, n in self.kind_counts.items() if n]
        opts = [None, *present]
        at = opts.index(self.kind_filter) if self.kind_filter in opts else 0
        self.kind_filter = opts[(at + 1) % len(opts)]
        self.refilter()

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
            self.notify("nothing marked: d delete, k keep, y accept the suggestion, r or 0-9 relabel")
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
