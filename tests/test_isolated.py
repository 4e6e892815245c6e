"""The TUI's child-process build: events relayed, report returned, errors and cancel mapped."""

import threading
from dataclasses import asdict

import pytest

from classify_tui.core.errors import Cancelled, UserError
from classify_tui.core.events import StageCounts
from classify_tui.core.isolated import build_in_process
from classify_tui.core.stage_results import TrainResult, VerifyResult
from classify_tui.core.workspace import Recipe


def test_events_and_report_come_back(tmp_path):
    events = []
    report = build_in_process(tmp_path / "w", asdict(Recipe(labels=["0", "1"], source="digits")), events.append,
                              threading.Event(), stop_after="verify", exports_dir=tmp_path / "exports")
    assert report.counts["verify"]["per_label"] == {"0": 178, "1": 182}  # report.json's plain form
    verify = report.result(VerifyResult)  # and the typed one every reader uses
    assert verify.kept_total == 360 and verify.kept == 360 and verify.per_label == {"0": 178, "1": 182}
    assert report.result(TrainResult) is None  # stopped after verify
    assert {e.stage for e in events} == {"search", "download", "verify"}
    ends = [e for e in events if e.kind == "end"]  # typed payloads survive the trip between processes
    assert len(ends) == 3 and all(isinstance(e.data, StageCounts) for e in ends)
    assert ends[-1].data.counts["per_label"] == {"0": 178, "1": 182}
    assert len(list((tmp_path / "w/images/1").iterdir())) == 182


def test_user_error_and_cancel_are_relayed(tmp_path):
    with pytest.raises(UserError, match="no usable images for label"):
        build_in_process(tmp_path / "a", asdict(Recipe(labels=["0", "x"], source="digits")), lambda e: None,
                         threading.Event(), stop_after="train")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        build_in_process(tmp_path / "b", asdict(Recipe(labels=["0"], source="digits")), lambda e: None, cancel)
