"""New workspace form: labels, source, images per label, query templates, exclude words."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...core.errors import UserError
from ...core.recipes import prepare


@dataclass
class NewRequest:
    name: str
    labels: str
    source: str
    per_label: int | None = None
    queries: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)


class NewWorkspace(ModalScreen[NewRequest | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="new.cancel"),
        Binding("ctrl+s", "create", "Create", id="new.create"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="new-form"):
            yield Static("[b]New workspace[/b]  (Tab moves, Enter on the last field or ctrl+s creates)")
            yield Label("Labels (comma-separated; blank for digits/mnist/folder)")
            yield Input(placeholder="bird,kitten,puppy,guitar,bass", id="new-labels")
            yield Label("Source: ddg, digits, mnist, folder:PATH, urls:FILE")
            yield Input(value="ddg", id="new-source")
            yield Label("Name under datasets/ (blank: from labels or source)")
            yield Input(placeholder="auto", id="new-name")
            yield Label("Images per label", id="new-per-label-label")
            yield Input(value="150", type="integer", id="new-per-label")
            yield Label("Query templates, ; separated ({label} is replaced)")
            yield Input(placeholder="{label} photo; {label} sun photo; {label} shade photo", id="new-queries")
            yield Label("Exclude words, comma-separated")
            yield Input(placeholder="drawing,cartoon", id="new-excludes")
            yield Static("", id="new-error")
            with Horizontal(id="new-buttons"):
                yield Button("Create and fetch", variant="primary", id="new-create")
                yield Button("Cancel", id="new-cancel")

    def on_mount(self) -> None:
        self.query_one("#new-labels", Input).focus()
        self.source_changed()

    def source_changed(self) -> None:
        """Images per label and search words only where the source uses them (not digits)."""
        kind = self.value("new-source").split(":", 1)[0] or "ddg"
        per_label = kind in ("ddg", "mnist")
        search = kind == "ddg"
        self.query_one("#new-per-label", Input).disabled = not per_label
        self.query_one("#new-queries", Input).disabled = not search
        self.query_one("#new-excludes", Input).disabled = not search
        self.query_one("#new-per-label-label", Label).update(
            "Images per label" if per_label else
            f"Images per label: not used by {kind} (it brings its own images)")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "new-source":
            self.source_changed()

    def value(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value.strip()

    def request(self) -> NewRequest:
        per = "" if self.query_one("#new-per-label", Input).disabled else self.value("new-per-label")
        return NewRequest(
            name=self.value("new-name"), labels=self.value("new-labels"), source=self.value("new-source") or "ddg",
            per_label=int(per) if per else None,
            queries=[q.strip() for q in self.value("new-queries").split(";") if q.strip()],
            excludes=[x.strip() for x in self.value("new-excludes").split(",") if x.strip()],
        )

    def action_create(self) -> None:
        req = self.request()
        try:  # validate here, so a bad label is a line in the form, not a dead workspace
            prepare(self.app.datasets, req.labels, req.source, req.name or None)
            if req.per_label is not None and req.per_label < 1:
                raise UserError("images per label must be at least 1")
        except UserError as exc:
            self.query_one("#new-error", Static).update(f"[red]{exc}[/]")
            return
        self.dismiss(req)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "new-create":
            self.action_create()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        enabled = [i for i in self.query(Input) if not i.disabled]
        if enabled and event.input is enabled[-1]:  # Enter on the last field in use creates
            self.action_create()
        else:
            self.focus_next()
