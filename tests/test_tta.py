"""Test-time augmentation: the views, tta_probs (for report.json's error_rate_tta) and predict --tta."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from exportkit import LABELS, SIZE, make_images, make_workspace, save_untrained
from PIL import Image

from classify_tui.core import tta
from classify_tui.core.backbone import DataConfig
from classify_tui.core.errors import Cancelled
from classify_tui.core.imageload import load_squished
from classify_tui.core.modelio import data_config_of, load_model
from classify_tui.core.predict import load_runner


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_untrained(tmp_path_factory.mktemp("tta") / "m")


def test_views_plain_first_crops_and_flips_only_when_allowed(tmp_path):
    p = make_images(tmp_path, 3)[2]  # a JPEG: the plain view must equal load_squished's draft decode
    with_flip, no_flip = tta.load_views(p, 32, flip=True), tta.load_views(p, 32, flip=False)
    assert with_flip.shape == (6, 32, 32, 3) and no_flip.shape == (4, 32, 32, 3)
    assert np.array_equal(no_flip[0], load_squished(p, 32))  # the plain view is error_rate's input
    assert np.array_equal(with_flip[4], with_flip[0][:, ::-1])  # mirrored plain view
    assert np.array_equal(with_flip[5], with_flip[1][:, ::-1])  # mirrored centre crop
    assert not np.array_equal(no_flip[1], no_flip[0])  # the crops differ from the plain view
    # the centre crop is the middle 90% of the (fully decoded) image, squished
    im = Image.open(p).convert("RGB")
    w, h = im.size
    box = (0.05 * w, 0.05 * h, 0.95 * w, 0.95 * h)
    full = tta.load_views(p, 32, flip=False, draft=False)
    assert np.array_equal(full[1], np.asarray(im.resize((32, 32), Image.BILINEAR, box=box)))


def test_combine_is_fastais_lerp():
    p = np.array([[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]])  # one image, plain + two views
    assert np.allclose(tta.combine(p), 0.25 * np.array([1.0, 0.0]) + 0.75 * np.array([0.25, 0.75]))
    assert np.allclose(tta.combine(p[:, :1]), p[:, 0])


def test_tta_probs_averages_views_through_the_export_preprocessing(model_dir, tmp_path, monkeypatch):
    import torch

    from classify_tui.core.train import infer

    model, _, cfg = load_model(model_dir)
    data_cfg = data_config_of(cfg)
    paths = make_images(tmp_path, 6, seed=5)
    got = tta.tta_probs(model, paths, SIZE, data_cfg, "cpu", flip=True, batch_size=12)
    assert got.shape == (6, len(LABELS)) and got.dtype == np.float32
    assert np.allclose(got.sum(1), 1, atol=1e-5)

    # by hand: every view normalised with the export's mean/std, softmax, fastai's lerp
    want = []
    for p in paths:
        x = torch.from_numpy(tta.normalize(tta.load_views(p, SIZE, flip=True), data_cfg.mean, data_cfg.std))
        with torch.inference_mode():
            want.append(tta.combine(model(x).softmax(-1).numpy()[None])[0])
    assert np.abs(got - np.stack(want)).max() < 1e-4

    # with all weight on the plain view it is exactly train.infer's probabilities (error_rate's)
    monkeypatch.setattr(tta, "BETA", 1.0)
    plain = tta.tta_probs(model, paths, SIZE, data_cfg, "cpu", flip=False)
    assert np.abs(plain - infer(model, paths, SIZE, data_cfg, "cpu").probs).max() < 1e-5
    monkeypatch.setattr(tta, "BETA", 0.25)
    no_flip = tta.tta_probs(model, paths, SIZE, data_cfg, "cpu", flip=False)
    assert np.abs(no_flip - got).max() > 1e-4  # flip=False really leaves the mirrored views out


def test_tta_probs_cancels(model_dir, tmp_path):
    model, _, cfg = load_model(model_dir)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        tta.tta_probs(model, make_images(tmp_path, 2), SIZE, DataConfig((0.5,) * 3, (0.5,) * 3), "cpu", True, cancel)


def test_predict_tta_flips_only_where_training_did(tmp_path, capsys):
    make_workspace(tmp_path, source="digits", flip=False)
    from classify_tui.cli import main

    assert main(["--datasets", str(tmp_path / "datasets"), "--exports", str(tmp_path / "exports"),
                 "export", "pets", "--onnx"]) == 0
    capsys.readouterr()
    d = tmp_path / "exports" / "pets"
    assert load_runner(d, "onnx").flip is False  # from config.json's classify_tui.flip
    cfg = json.loads((d / "config.json").read_text())
    del cfg["classify_tui"]
    (d / "config.json").write_text(json.dumps(cfg))
    assert load_runner(d, "onnx", tmp_path / "datasets").flip is False  # from the workspace recipe
    assert load_runner(d, "onnx").flip is True  # unknown: flips, as photos train

    img = str(tmp_path / "datasets/pets/images/fox/img1.png")
    out = {}
    for runtime in ("torch", "onnx"):
        for extra in ([], ["--tta"]):
            assert main(["--datasets", str(tmp_path / "datasets"), "predict", str(d), img, "--json",
                         "--runtime", runtime, *extra]) == 0
            out[runtime, bool(extra)] = json.loads(capsys.readouterr().out)["probs"]
    diff = lambda a, b: max(abs(a[k] - b[k]) for k in LABELS)  # noqa: E731
    assert diff(out["torch", True], out["onnx", True]) <= 1e-4
    assert diff(out["torch", False], out["onnx", False]) <= 1e-4
    assert diff(out["torch", True], out["torch", False]) > 1e-4  # --tta changes the probabilities

    runner = load_runner(d, "torch", tmp_path / "datasets")
    views = tta.load_views(img, SIZE, flip=False, draft=False)
    want = tta.combine(runner.run(tta.normalize(views, runner.mean, runner.std))[None])[0]
    assert max(abs(out["torch", True][k] - want[i]) for i, k in enumerate(LABELS)) <= 1e-5
