"""The CLI never silently ignores what it was asked: option validation, re-runs with changed
options (what changed, what is redone, both ways), and `tui` without a terminal."""

from __future__ import annotations

import io
import json

import pytest
from conftest import png_bytes

from classify_tui import cli
from classify_tui.core.report import Report
from classify_tui.core.rerun import stages_done
from classify_tui.core.stages import STAGES
from classify_tui.core.workspace import Recipe, Workspace


@pytest.mark.parametrize(("args", "message"), [
    (["--epochs", "0"], "--epochs must be at least 1 (got 0)"),
    (["--epochs", "-1"], "--epochs must be at least 1 (got -1)"),
    (["--epochs", "two"], "--epochs must be a whole number (got 'two')"),
    (["--size", "5"], "--size must be at least 32 (got 5)"),
    (["--per-label", "0"], "--per-label must be at least 1 (got 0)"),
    (["--folds", "1"], "--folds must be at least 2 (got 1)"),
    (["--repeats", "0"], "--repeats must be at least 1 (got 0)"),
    (["--lr", "0"], "--lr must be greater than 0 (got 0)"),
    (["--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
])
def test_options_are_validated_at_parse_time_in_one_line(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--datasets", str(tmp_path), "build", "--source", "digits", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"classify-tui: error: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err and "usage:" not in err
    assert not (tmp_path / "digits").exists()  # nothing was created or stored


def trained_ws(tmp_path, source="digits", labels=None, **opts) -> Workspace:
    """A workspace whose journal says every stage finished with the stored recipe."""
    ws = Workspace(tmp_path / "datasets" / "w")
    ws.ensure()
    recipe = Recipe(labels=labels or [str(i) for i in range(10)], source=source, size=64, epochs=3, **opts)
    ws.save_recipe(recipe)
    for stage in STAGES:
        ws.journal("stage_done", stage=stage, counts={})
    ws.save_report(Report(labels=recipe.labels, error_rate=0.1))
    return ws


@pytest.fixture
def fake_build(monkeypatch):
    """Record what cmd_build asks the core for, without building anything."""
    calls = []

    def build(ws, recipe, on_event, opts):
        calls.append((recipe, opts))
        return Report()

    monkeypatch.setattr("classify_tui.core.pipeline.build", build)
    return calls


def run_build(tmp_path, *args: str) -> int:
    return cli.main(["--datasets", str(tmp_path / "datasets"), "--exports", str(tmp_path / "exports"),
                     "build", "--name", "w", "--plain", *args])


@pytest.mark.parametrize(("args", "said", "from_stage"), [
    (["--epochs", "5"], "--epochs 3 → 5: retraining from train", "train"),
    (["--size", "96", "--lr", "0.02"], "--size 64 → 96, --lr (default) → 0.02: retraining from train", "train"),
    (["--arch", "resnet18"], "--arch tf_efficientnet_lite0 → resnet18: retraining from train", "train"),
    (["--folds", "4"], "--folds 3 → 4: rescoring the review", "review"),
    (["--min-side", "16"], "--min-side 32 → 16: verifying again", "verify"),
    (["--epochs", "5", "--from", "verify"], "--epochs 3 → 5: verifying again", "verify"),  # the earlier wins
    (["--folds", "4", "--from", "train"], "--folds 3 → 4: retraining from train", "train"),
])
def test_changed_options_say_what_changed_and_redo_it(tmp_path, capsys, fake_build, args, said, from_stage):
    trained_ws(tmp_path)
    assert run_build(tmp_path, *args) == 0
    err = capsys.readouterr().err
    assert f"classify-tui: {said}\n" in err
    (recipe, opts), = fake_build
    assert opts.from_stage == from_stage


def test_unchanged_options_resume_without_redoing_anything(tmp_path, capsys, fake_build):
    trained_ws(tmp_path)
    assert run_build(tmp_path, "--epochs", "3", "--size", "64") == 0
    assert run_build(tmp_path) == 0
    assert "classify-tui:" not in capsys.readouterr().err
    assert [opts.from_stage for _, opts in fake_build] == [None, None]
    assert run_build(tmp_path, "--from", "review") == 0  # --from alone still works as before
    assert fake_build[-1][1].from_stage == "review"


def test_changes_before_training_need_no_redo(tmp_path, capsys, fake_build):
    ws = trained_ws(tmp_path)
    ws.journal_path.write_text("")  # nothing finished yet: a new --epochs is simply used
    assert run_build(tmp_path, "--epochs", "5") == 0
    assert "classify-tui:" not in capsys.readouterr().err
    assert fake_build[0][1].from_stage is None and fake_build[0][0].epochs == 5


def test_search_options_refetch_only_where_the_source_uses_them(tmp_path, capsys, fake_build):
    trained_ws(tmp_path)
    assert run_build(tmp_path, "--per-label", "20") == 0  # digits bring their own images
    err = capsys.readouterr().err
    assert "classify-tui: --per-label is not used by the digits source; ignored" in err
    assert "retraining" not in err and fake_build[-1][1].from_stage is None

    import shutil

    shutil.rmtree(tmp_path / "datasets")
    trained_ws(tmp_path, source="ddg", labels=["cat", "dog"])
    assert run_build(tmp_path, "--per-label", "200", "--query", "{label} closeup") == 0
    err = capsys.readouterr().err
    assert "classify-tui: --per-label 150 → 200, --query {label} photo,{label} sun photo,{label} shade photo → " \
           "{label} closeup: refetching from search" in err
    assert fake_build[-1][1].from_stage == "search"


def test_a_changed_option_really_resets_the_stage_and_is_stored(tmp_path, capsys):
    """Through the real pipeline (data stages only, a 6-image folder): the journal no longer
    counts train as done, so the next full build retrains, and recipe.json says the new value."""
    src = tmp_path / "src"
    for label in ("cat", "dog"):
        (src / label).mkdir(parents=True)
        for i in range(3):
            (src / label / f"{i}.png").write_bytes(png_bytes((60 * i, 90 if label == "cat" else 200, 30)))
    ws = trained_ws(tmp_path, source=f"folder:{src}", labels=["cat", "dog"])
    assert run_build(tmp_path, "--epochs", "5", "--stop-after", "verify") == 0
    assert "--epochs 3 → 5: retraining from train" in capsys.readouterr().err
    assert json.loads(ws.recipe_path.read_text())["epochs"] == 5
    assert "train" not in stages_done(ws) and "review" not in stages_done(ws)
    assert run_build(tmp_path, "--stop-after", "verify") == 0  # the same options again: nothing new to say
    assert "retraining" not in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["tui", "digits"], ["tui"], []])
def test_tui_without_a_terminal_exits_with_one_line(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = cli.main(["--datasets", str(tmp_path), *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs a terminal" in err and "stdin" in err


def test_plain_progress_shows_one_overall_scale_for_multi_model_stages(capsys):
    from classify_tui.core.events import BatchDone, EpochDone, Event
    from classify_tui.progress import StderrReporter

    r = StderrReporter(force_plain=True)
    r(Event("review", "start", "review..."))
    for model in (1, 2):
        r._last_plain = -100.0  # no throttling in the test
        r(Event("review", "batch", "", 18, 18, BatchDone(2, 2, loss=0.3, images_per_s=50.0, model=model, models=6)))
        r(Event("review", "epoch", "epoch 2/2", 2, 2, EpochDone(2, 2, train_loss=0.3, valid_loss=0.2, error_rate=0.1,
                                                                 images_per_s=50.0, model_images_per_s=55.0,
                                                                 model=model, models=6)))
    lines = capsys.readouterr().err.splitlines()
    assert lines[1] == "[review] 17% · model 1/6 · epoch 2/2 · batch 18/18 · loss 0.300 · 50 img/s"
    assert lines[2].startswith("[review] model 1/6 epoch 2/2 train 0.300")
    assert lines[3].startswith("[review] 33% · model 2/6")
