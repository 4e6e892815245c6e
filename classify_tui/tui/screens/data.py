"""Data: live search/download/verify progress, counts per label, rejects with reasons,
a thumbnail grid per label and duplicate pairs side by side."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, ProgressBar, Static, TabbedContent, TabPane

from ...core.events import StageCounts
from ...core.review_rows import OK, ReviewRow, read_review
from ...core.stage_results import VerifyResult
from ...core.summary import COUNT_COLUMNS, DupPair, duplicate_pairs, problem_rows, status_counts
from ...core.workspace import KEPT, Row
from ..messages import BuildFinished, CoreEvent
from ..widgets.fitimage import FitImage
from ..widgets.footer import AppFooter
from ..widgets.gallery import Gallery
from .building import BuildScreen
from .review import KIND_SHORT

TABS = ("counts", "rejected", "thumbs", "dups")


class DataScreen(BuildScreen):
    CANCELLED = "cancelled; everything fetched so far is kept"

    BINDINGS = [
        *[Binding(str(i + 1), f"tab('{t}')", t, show=False, id=f"data.tab{i + 1}") for i, t in enumerate(TABS)],
        Binding("l", "cycle_label", "Label", id="data.label"),
        Binding("n", "pair(1)", "Next pair", id="data.next"),
        Binding("p", "pair(-1)", "Prev pair", id="data.prev"),
        Binding("t", "train", "Train", id="data.train"),
        Binding("x", "cancel", "Cancel", id="data.cancel"),
        Binding("escape", "back", "Back", id="data.back"),
    ]

    def __init__(self, ws, run: bool = False, from_stage: str | None = None) -> None:
        super().__init__(ws)
        self.run_on_mount = run
        self.from_stage = from_stage  # a re-run with changed options (core/rerun.py)
        self.labels = ws.load_recipe().labels
        self.label = self.labels[0] if self.labels else None
        self.pairs: list[DupPair] = []
        self.pair_index = 0
        self._last_refresh = 0.0
        self.queue: dict[str, ReviewRow] = {}

    def compose(self) -> ComposeResult:
        yield Static(f"Data — {self.ws.name}", id="title")
        yield ProgressBar(id="progress", show_eta=False)
        yield Static("", id="status")
        with TabbedContent(id="data-tabs"):
            with TabPane("1 Counts", id="counts"):
                yield DataTable(id="counts-table", cursor_type="row")
            with TabPane("2 Rejected", id="rejected"):
                yield DataTable(id="rejected-table", cursor_type="row")
                yield Static("", id="rejected-empty")
            with TabPane("3 Thumbnails", id="thumbs"):
                yield Static("", id="thumbs-label")
                yield Gallery(self.ws.root, self.app.image_widget_class, self._caption, self.app.thumbs,
                              id="thumbs-gallery")
            with TabPane("4 Duplicates", id="dups"):
                yield Static("", id="pair-title")
                with Horizontal(id="pair"):
                    with Vertical(classes="pair-side"):
                        yield FitImage(self.app.image_widget_class, id="pair-a", classes="pair-img")
                        yield Static("", id="pair-a-cap")
                    with Vertical(classes="pair-side"):
                        yield FitImage(self.app.image_widget_class, id="pair-b", classes="pair-img")
                        yield Static("", id="pair-b-cap")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#counts-table", DataTable).add_columns("label", *COUNT_COLUMNS)
        self.query_one("#rejected-table", DataTable).add_columns("label", "status", "reason", "source")
        self.refresh_data()
        self.query_one(ProgressBar).display = False
        self.query_one("#status", Static).update("1-4 switch tabs · t train · escape back")
        if self.run_on_mount:
            self.start()

    # -- the build through verify, in a thread worker -------------------------------------------
    def start(self) -> None:
        self.query_one(ProgressBar).display = True
        self.start_build(stop_after="verify", from_stage=self.from_stage)

    def on_core_event(self, message: CoreEvent) -> None:
        ev = message.event
        if ev.total:
            self.query_one(ProgressBar).update(total=ev.total, progress=ev.done or 0)
        counts = ev.data.counts if isinstance(ev.data, StageCounts) else {}
        detail = ", ".join(f"{k} {v}" for k, v in counts.items() if isinstance(v, int) and v)
        text = ev.message or (f"{ev.done}/{ev.total}" if ev.total else "")
        self.query_one("#status", Static).update(f"[b]{ev.stage}[/b] {text} {detail}".rstrip())
        now = time.monotonic()
        if ev.kind == "end" or now - self._last_refresh > 0.5:  # the manifest is saved as work lands
            self.refresh_data()

    def on_build_finished(self, message: BuildFinished) -> None:
        self.running = False
        self.query_one(ProgressBar).display = False
        self.refresh_data()
        if message.error:
            self.notify(message.error, severity="warning")
            self.query_one("#status", Static).update(f"stopped: {message.error}")
        else:
            verify = message.report.result(VerifyResult) if message.report else None
            self.query_one("#status", Static).update(
                f"data ready: {verify.kept_total if verify else 0} images kept. Press t to train.")

    def show_cancelling(self) -> None:
        self.query_one("#status", Static).update("cancelling...")

    # -- views --------------------------------------------------------------------------------
    def refresh_data(self) -> None:
        self._last_refresh = time.monotonic()
        rows = self.ws.load_manifest()
        counts = status_counts(rows, self.labels)
        table = self.query_one("#counts-table", DataTable)
        table.clear()
        for lb, per in counts.items():
            table.add_row(lb, *[str(per[c]) for c in COUNT_COLUMNS], key=lb)
        totals = [sum(per[c] for per in counts.values()) for c in COUNT_COLUMNS]
        table.add_row(Text("total", style="bold"), *[Text(str(n), style="bold") for n in totals], key="__total")
        self.query_one("#title", Static).update(
            f"Data — {self.ws.name}: {totals[0]} kept of {len(rows)} found ({', '.join(self.labels)})")
        problems = self.query_one("#rejected-table", DataTable)
        problems.clear()
        for r in problem_rows(rows):
            problems.add_row(r.label, r.status, r.reason[:70], r.source[-50:])
        empty = not problems.row_count
        problems.display = not empty
        self.query_one("#rejected-empty", Static).display = empty
        self.query_one("#rejected-empty", Static).update(
            "Nothing rejected: every file fetched so far decoded and passed the checks." if rows else
            "Nothing fetched yet: t fetches the data and trains." if not self.running else "Fetching...")
        self.kept = [r for r in rows.values() if r.status == KEPT]
        self.queue = {r.path: r for r in read_review(self.ws.review_path)}
        self.show_label()
        self.pairs = duplicate_pairs(rows)
        self.pair_index = min(self.pair_index, max(len(self.pairs) - 1, 0))
        self.show_pair()

    def _caption(self, item: Row) -> str:
        flags = item.flags
        why = "near duplicate" if "near duplicate" in flags else ("cross-label dup" if "cross-label" in flags else "")
        queued = self.queue.get(item.path)
        if queued is not None and (queued.kind != OK or queued.hard_to_learn):  # Review's words for it
            said = "hard to learn" if queued.hard_to_learn else KIND_SHORT.get(queued.kind, queued.kind)
            why = f"review: {said}" + (f" · {why}" if why else "")
        return f"[b]{item.label}[/b]\n{item.width}×{item.height} px\n[dim]{why}[/]"

    def show_label(self, keep_cursor: bool = True) -> None:
        items = [r for r in self.kept if r.label == self.label]
        self.query_one("#thumbs-label", Static).update(
            f"label [b]{self.label}[/b]: {len(items)} images  (l: next label, arrows move, enter: large view)"
            if items else f"label [b]{self.label}[/b]: no kept images yet (l: next label)")
        self.query_one("#thumbs-gallery", Gallery).set_items(items, keep_cursor=keep_cursor)

    def show_pair(self) -> None:
        title = self.query_one("#pair-title", Static)
        a, b = self.query_one("#pair-a"), self.query_one("#pair-b")
        if not self.pairs:
            title.update("no duplicate or near-duplicate pairs")
            a.image = b.image = None
            return
        p = self.pairs[self.pair_index]
        title.update(f"pair {self.pair_index + 1}/{len(self.pairs)}: [b]{p.kind}[/b]  (n/p: next/previous)")
        for widget, cap, path, label in ((a, "#pair-a-cap", p.a, p.label_a), (b, "#pair-b-cap", p.b, p.label_b)):
            full = self.ws.root / path
            widget.image = self.app.thumbs.get(full)
            self.query_one(cap, Static).update(f"[b]{label}[/b]  {path}" + ("" if full.exists() else "  (gone)"))

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "thumbs":
            self.query_one("#thumbs-gallery", Gallery).focus()

    def action_cycle_label(self) -> None:
        if self.labels:
            self.label = self.labels[(self.labels.index(self.label) + 1) % len(self.labels)]
            self.show_label(keep_cursor=False)

    def action_pair(self, step: int) -> None:
        if self.pairs:
            self.pair_index = (self.pair_index + step) % len(self.pairs)
            self.show_pair()

    def on_gallery_selected(self, event: Gallery.Selected) -> None:
        from .imageview import ImageView

        gallery = event.gallery
        items = gallery.items

        def describe(i: int):
            it = items[i]
            return self.ws.root / it.path, f"[b]{it.label}[/b]  {it.path}  {it.width}×{it.height} px  {it.flags}"

        def closed(index: int | None) -> None:
            if index is not None and index != gallery.cursor and gallery.items is items:
                gallery.move_to(index)

        if items:
            self.app.push_screen(ImageView(len(items), gallery.cursor, describe), closed)

    def action_train(self) -> None:
        if self.running:
            self.notify("still fetching: wait, or press x to cancel")
            return
        self.app.open_train(self.ws)
