"""classify-tui's train stage vs fastai's lesson-1 recipe: same folder, backbone, size, epochs.

fastai: ImageDataLoaders.from_folder(valid_pct=0.2, seed=42, item_tfms=Resize(64, squish)),
vision_learner(dls, "tf_efficientnet_lite0"), fine_tune(3). Offline, vision_learner cannot
download the weights, so its timm body gets the same ImageNet weights we use.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

SIZE, EPOCHS = 64, 3


def fastai_learner(folder: Path):
    """fastai's lesson-1 recipe, fine-tuned; also the peer of the label-noise bench."""
    from fastai.vision.all import ImageDataLoaders, Resize, ResizeMethod, error_rate, vision_learner

    from classify_tui.core.backbone import create_backbone

    dls = ImageDataLoaders.from_folder(folder, valid_pct=0.2, seed=42, num_workers=0,
                                       item_tfms=Resize(SIZE, method=ResizeMethod.Squish))
    learn = vision_learner(dls, "tf_efficientnet_lite0", pretrained=False, metrics=error_rate)
    full, _ = create_backbone("tf_efficientnet_lite0", 1000)
    body = learn.model[0].model
    sd = {k: v for k, v in full.state_dict().items() if not k.startswith("classifier.")}
    missing, unexpected = body.load_state_dict(sd, strict=False)
    assert not unexpected and not [k for k in missing if not k.startswith("classifier")], (missing, unexpected)
    learn.logger = lambda *a: None
    with learn.no_bar():
        learn.fine_tune(EPOCHS)
    return learn


def fastai_recipe(folder: Path) -> tuple[float, float]:
    t0 = time.monotonic()
    learn = fastai_learner(folder)
    with learn.no_bar():
        err = float(learn.validate()[1])
    return err, time.monotonic() - t0


def ours(ws_root: Path) -> tuple[float, float]:
    from classify_tui.core.pipeline import BuildOptions, build
    from classify_tui.core.workspace import Recipe, Workspace

    t0 = time.monotonic()
    report = build(Workspace(ws_root), Recipe(labels=[str(i) for i in range(10)], source="digits", size=SIZE,
                                            epochs=EPOCHS), opts=BuildOptions(stop_after="train"))
    return report.error_rate, time.monotonic() - t0


def main() -> None:
    root = Path(tempfile.mkdtemp())
    err_o, t_o = ours(root / "digits")  # also writes the image folder fastai reads
    err_f, t_f = fastai_recipe(root / "digits" / "images")
    print(f"digits (32 px PNGs) at {SIZE} px, {EPOCHS} epochs, tf_efficientnet_lite0, 2 CPU cores")
    print(f"  fastai lesson-1 recipe: error {err_f:.4f}  wall {t_f:.1f}s")
    print(f"  classify-tui train:     error {err_o:.4f}  wall {t_o:.1f}s (search+download+verify+train)")
    print(f"  error ratio {err_o / max(err_f, 1e-9):.2f} (goal <= 0.5), wall ratio {t_o / t_f:.2f} (goal <= 1.0)")


if __name__ == "__main__":
    main()
