"""A real (small) training run, the review queue, export, and loading it with plain timm."""

import contextlib
import csv
import io
import json

import pytest
import torch

from classify_tui.cli import main
from classify_tui.core import review

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    args = ["--datasets", str(root / "datasets"), "--exports", str(root / "exports"), "build", "--source", "digits",
            "--labels", "0,1,7", "--size", "48", "--epochs", "2", "--folds", "2", "--plain"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(args) == 0
    (root / "stderr.txt").write_text(err.getvalue())
    return root


def test_training_progress_comes_from_typed_epoch_events(built):
    lines = (built / "stderr.txt").read_text().splitlines()
    epochs = [ln.split(" ", 2)[2] for ln in lines if ln.startswith("[train]") and " valid " in ln]
    assert [e.split()[:2] for e in epochs] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert all(len(e.split()) == 8 and e.split()[6] == "err" for e in epochs)  # train, valid, err values
    assert any(ln.startswith("[train] tf_efficientnet_lite0 on cpu") for ln in lines)
    assert any(" img/s" in ln and ln.startswith("[train] ") and "batch" in ln for ln in lines)


def test_report_and_review(built):
    ws = built / "datasets" / "digits"
    report = json.loads((ws / "report.json").read_text())
    assert report["labels"] == ["0", "1", "7"]
    assert report["error_rate"] < 0.35  # 3 classes: chance is 0.67
    cm = report["confusion_matrix"]
    assert len(cm) == 3 and sum(map(sum, cm)) == report["n_valid"]
    off_diagonal = sum(cm[i][j] for i in range(3) for j in range(3) if i != j)
    assert len(report["misclassified"]) == off_diagonal  # a cell opens exactly what it counts
    for path, actual, predicted in report["misclassified"]:
        assert (ws / path).exists() and actual != predicted
    for key in ("counts", "seconds", "most_confused", "device", "arch", "size", "epochs", "export_dir", "history"):
        assert key in report
    assert report["device"] == "cpu" and report["history"][0]["round"] == 1
    with open(ws / "review.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:9] == ["path", "source", "label", "predicted", "p_label", "p_predicted", "loss", "split",
                                 "reasons"]  # the old columns stay first, so old scripts keep working
    assert {"kind", "suggestion"} <= set(rows[0])
    assert len(rows) == report["n_train"] + report["n_valid"]
    assert {r["split"] for r in rows} == {"train", "valid"}
    priorities = [float(r["priority"]) for r in rows]
    assert priorities == sorted(priorities, reverse=True)  # every row in order, most urgent first
    assert {r["kind"] for r in rows} <= {"label", "outlier", "duplicate", "quality", "ok"}
    assert all(r["suggestion"] in ("keep", "delete") or r["suggestion"].startswith("relabel:") for r in rows)
    for r in rows:  # a label row looks like another label and suggests it; the shown prediction says so
        if r["kind"] == "label":
            assert r["predicted"] != r["label"] and r["suggestion"] == f"relabel:{r['predicted']}"
        if r["reasons"].startswith("hard to learn"):  # doubted from training alone: kept, never relabelled
            assert r["kind"] == "ok" and r["suggestion"] == "keep" and r["predicted"] == r["label"]
    assert report["counts"]["review"]["kinds"] == {k: sum(r["kind"] == k for r in rows)
                                                   for k in ("label", "outlier", "duplicate", "quality", "ok")}
    assert all(r["basis"] == review.BASIS_VALID for r in rows if r["split"] == "valid")


def test_error_rate_tta_is_the_tta_error_of_the_saved_model(built):
    """report.json's error_rate_tta is what core/tta.py scores on the same validation split."""
    from classify_tui.core.modelio import data_config_of, load_model
    from classify_tui.core.train_stage import kept_items, model_dir, model_inputs, split_indices
    from classify_tui.core.tta import tta_probs
    from classify_tui.core.workspace import Workspace

    ws = Workspace(built / "datasets" / "digits")
    report = ws.load_report()
    assert report.error_rate_tta is not None
    recipe = ws.load_recipe()
    items = kept_items(ws, recipe, ws.load_manifest())
    paths, _ = model_inputs(ws, recipe, items, lambda ev: None)
    _, valid_idx = split_indices(len(items), recipe.valid_pct, recipe.seed)
    model, labels, cfg = load_model(model_dir(ws))
    probs = tta_probs(model, [paths[i] for i in valid_idx], recipe.size, data_config_of(cfg), "cpu", recipe.flip)
    wrong = sum(labels[k] != items[i].label for k, i in zip(probs.argmax(1).tolist(), valid_idx))
    assert report.error_rate_tta == round(wrong / len(valid_idx), 4)


def test_export_loads_with_plain_timm_and_matches_predict(built, capsys):
    import timm
    from PIL import Image

    exp = built / "exports" / "digits"
    assert sorted(p.name for p in exp.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    cfg = json.loads((exp / "config.json").read_text())
    assert cfg["label_names"] == ["0", "1", "7"] and cfg["num_classes"] == 3
    pc = cfg["pretrained_cfg"]
    assert pc["input_size"] == [3, 48, 48] and pc["crop_mode"] == "squash" and pc["crop_pct"] == 1.0
    assert pc["mean"] == [0.5, 0.5, 0.5]
    # the build's own export says how training saw images (predict --tta must not mirror digits)
    assert cfg["classify_tui"] == {"flip": False, "shuffle_channels": True, "source": "digits"}
    m = timm.create_model(f"local-dir:{exp}", pretrained=True).eval()
    t = timm.data.create_transform(**timm.data.resolve_data_config({}, model=m))
    imgs = sorted((built / "datasets" / "digits" / "images" / "7").iterdir())[:5]
    with torch.inference_mode():
        ours = [m(t(Image.open(p).convert("RGB"))[None]).softmax(-1)[0] for p in imgs]
    bad = built / "bad.jpg"
    bad.write_bytes(b"not an image")
    capsys.readouterr()
    rc = main(["predict", str(exp), *map(str, imgs), str(bad), "--json"])
    assert rc == 1  # one bad image: the others still predicted, non-zero at the end
    captured = capsys.readouterr()
    lines = [json.loads(ln) for ln in captured.out.splitlines()]
    assert [ln["path"] for ln in lines] == [str(p) for p in imgs]
    for ln, probs in zip(lines, ours):
        assert set(ln["probs"]) == {"0", "1", "7"}
        for i, lab in enumerate(["0", "1", "7"]):
            assert abs(ln["probs"][lab] - float(probs[i])) < 1e-4
    assert "bad.jpg" in captured.err


def test_clean_then_retrain_records_history(built, tmp_path, capsys):
    import shutil

    shutil.copytree(built, tmp_path / "run")  # the module's build stays as the other tests see it
    built = tmp_path / "run"
    ws = built / "datasets" / "digits"
    with open(ws / "review.csv", newline="") as fh:
        top = list(csv.DictReader(fh))[:2]
    dec = built / "dec.csv"
    dec.write_text("".join(f"{r['path']},delete\n" for r in top))
    base = ["--datasets", str(built / "datasets"), "--exports", str(built / "exports")]
    assert main([*base, "apply", "digits", str(dec)]) == 0
    assert main([*base, "build", "--name", "digits", "--from", "train", "--stop-after", "train", "--plain"]) == 0
    report = json.loads((ws / "report.json").read_text())
    assert len(report["history"]) == 2
    assert report["history"][1]["changes_since_previous"] == {"delete": 2}
    assert report["history"][1]["n_images"] == report["history"][0]["n_images"] - 2


def test_unknown_arch_is_a_clear_error(tmp_path, capsys):
    rc = main(["--datasets", str(tmp_path), "build", "--source", "digits", "--labels", "0,1", "--arch", "nonexistent_net_9"])
    assert rc == 2 and "unknown timm architecture" in capsys.readouterr().err
