"""The thorough review's honesty invariant: no image is ever scored by a model that trained on it."""

import threading

import numpy as np

from classify_tui.core import review
from classify_tui.core.workspace import KEPT, Recipe, Row, Workspace


def test_every_score_comes_only_from_models_that_never_saw_the_image(tmp_path, monkeypatch):
    n, labels = 30, ["a", "b"]
    items = [Row(id=str(i), source=str(i), label=labels[i % 2], status=KEPT, path=f"images/{i}.png") for i in range(n)]
    trained_on: list[set[int]] = []

    class Out:
        model, data_cfg = None, None
        device = type("D", (), {"name": "cpu"})()

    def fake_train(paths, targets, vocab, valid_idx, cfg, on_event, cancel, stage):  # noqa: ARG001
        trained_on.append(set(range(n)) - set(valid_idx))
        return Out()

    def fake_predict(model, paths, size, data_cfg, device, cancel=None):
        # probability of "a" = index of the model that scored it, so the test can tell them apart
        model_no = len(trained_on) - 1
        scored = [int(p.stem) for p in paths]
        assert not set(scored) & trained_on[model_no], "scored by a model that trained on it"
        return np.array([[model_no / 10, 1 - model_no / 10] for _ in paths], dtype=np.float32)

    from classify_tui.core import train

    monkeypatch.setattr(train, "train_classifier", fake_train)
    monkeypatch.setattr(train, "predict_probs", fake_predict)
    recipe = Recipe(labels=labels, source="digits", folds=3, repeats=2)
    valid_idx = [0, 1, 2]
    main = np.array([[0.9, 0.1]] * 3, dtype=np.float32)
    probs = review.out_of_fold_probs(Workspace(tmp_path / "w"), recipe, items, valid_idx, main,
                                     lambda e: None, threading.Event())
    assert len(trained_on) == 6  # 2 repeats x 3 folds, each model trained without one fold
    partitions = [frozenset(frozenset(set(range(n)) - t) for t in trained_on[r * 3:(r + 1) * 3]) for r in (0, 1)]
    assert partitions[0] != partitions[1]  # each repeat draws its own folds
    for i in range(n):  # averaged over the 2 models that held i out (plus the main model if valid)
        held_out = [m for m, t in enumerate(trained_on) if i not in t]
        assert len(held_out) == 2
        expected = [m / 10 for m in held_out] + ([0.9] if i in valid_idx else [])
        assert np.isclose(probs[i, 0], np.mean(expected))
