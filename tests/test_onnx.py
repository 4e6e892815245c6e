"""ONNX export: parity with torch, dynamic batch, the documented preprocessing, and
`predict --runtime onnx` without torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
from exportkit import LABELS, SIZE, make_images, make_workspace, run_cli, save_untrained
from test_imports import heavy_modules

from classify_tui.cli import main
from classify_tui.core.errors import UserError
from classify_tui.core.onnx_export import export_onnx
from classify_tui.core.predict import load_exported, load_runner, predict_images, predict_paths


@pytest.fixture(scope="module")
def onnx_export(tmp_path_factory):
    d = save_untrained(tmp_path_factory.mktemp("exp") / "exports" / "pets")
    info = export_onnx(d)
    return d, info


def test_numpy_preprocessing_is_the_exports_timm_transform(onnx_export, tmp_path):
    from PIL import Image

    from classify_tui.core.tta import normalize, squished_views

    d, _ = onnx_export
    lm = load_exported(d)
    runner = load_runner(d, "onnx")
    for p in make_images(tmp_path, 6):
        with Image.open(p) as im:
            want = lm.transform(im.convert("RGB")).numpy()
            got = normalize(squished_views(im.convert("RGB"), SIZE, True, tta=False), runner.mean, runner.std)[0]
        assert got.shape == want.shape == (3, SIZE, SIZE)
        assert np.abs(got - want).max() < 1e-5


def test_onnx_probabilities_match_torch(onnx_export, tmp_path):
    import onnx
    import onnxruntime as ort

    d, info = onnx_export
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["onnx"]["file"] == "model.onnx" and cfg["onnx"]["input_shape"] == ["batch", 3, SIZE, SIZE]
    assert "squash" in cfg["onnx"]["preprocessing"] and str(cfg["pretrained_cfg"]["mean"]) in cfg["onnx"]["preprocessing"]
    assert info["max_abs_diff_vs_torch"] <= 1e-4
    dim0 = onnx.load(str(d / "model.onnx")).graph.input[0].type.tensor_type.shape.dim[0]
    assert dim0.dim_param == "batch"  # dynamic batch size
    assert "## ONNX" in (d / "README.md").read_text()

    paths = make_images(tmp_path, 6, seed=3)
    torch_preds = predict_paths(load_exported(d), paths)  # timm's own transform, the stranger's path
    onnx_preds = predict_images(load_runner(d, "onnx"), paths)
    diffs = [abs(t.probs[k] - o.probs[k]) for t, o in zip(torch_preds, onnx_preds) for k in LABELS]
    assert max(diffs) <= 1e-4
    assert [t.label for t in torch_preds] == [o.label for o in onnx_preds]
    assert len({t.label for t in torch_preds}) > 1 or max(t.prob for t in torch_preds) < 0.99  # not a constant model

    # a batch of 5 in one run: the batch dimension is really dynamic
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"pixel_values": np.zeros((5, 3, SIZE, SIZE), np.float32)})[0]
    assert out.shape == (5, len(LABELS))


def test_stale_or_missing_onnx_is_refused_in_one_line(tmp_path):
    d = save_untrained(tmp_path / "exports" / "pets")
    with pytest.raises(UserError, match="has no model.onnx.*--onnx"):
        load_runner(d, "onnx")
    export_onnx(d)
    save_untrained(d, seed=1)  # a new model.safetensors (and config.json) over the old export
    with pytest.raises(UserError, match="not from this export"):
        load_runner(d, "onnx")


def test_export_cli_writes_onnx_and_predict_runtime_onnx_needs_no_torch(tmp_path):
    make_workspace(tmp_path)
    assert main(["--datasets", str(tmp_path / "datasets"), "--exports", str(tmp_path / "exports"),
                 "export", "pets", "--onnx"]) == 0
    d = tmp_path / "exports" / "pets"
    cfg = json.loads((d / "config.json").read_text())
    assert (d / "model.onnx").is_file() and cfg["classify_tui"]["flip"] is True
    img = str(tmp_path / "datasets/pets/images/dog/img1.png")
    out = {}
    for runtime in ("torch", "onnx"):
        r = run_cli(["predict", "exports/pets", img, "--json", "--runtime", runtime], cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        out[runtime] = json.loads(r.stdout)
    assert out["torch"]["label"] == out["onnx"]["label"]
    assert max(abs(out["torch"]["probs"][k] - out["onnx"]["probs"][k]) for k in LABELS) <= 1e-4
    assert heavy_modules(["predict", "exports/pets", img, "--runtime", "onnx"], tmp_path) == []


def test_export_cli_without_a_trained_model_is_one_line(tmp_path, capsys):
    from classify_tui.core.workspace import Recipe, Workspace

    ws = Workspace(tmp_path / "datasets" / "empty")
    ws.ensure()
    ws.save_recipe(Recipe(labels=["a", "b"], source="digits"))
    assert main(["--datasets", str(tmp_path / "datasets"), "--exports", str(tmp_path / "exports"),
                 "export", "empty", "--onnx"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no trained model" in err
