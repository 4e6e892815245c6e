"""ONNX export of an exported model: model.onnx beside model.safetensors, dynamic batch size.

The graph takes the preprocessed image and returns logits; config.json's ``onnx`` entry says
exactly how to preprocess (the same as the safetensors export's ``pretrained_cfg``). Exported
with torch's TorchScript-based exporter (``dynamo=False``): it needs only the ``onnx`` package,
works offline and gives the same probabilities as torch to ~1e-6 on this backbone.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from .errors import UserError
from .workspace import atomic_write_text

OPSET = 17
INPUT, OUTPUT = "pixel_values", "logits"
PARITY_LIMIT = 1e-4  # max abs difference of probabilities, onnxruntime vs torch


def preprocessing_text(pc: dict[str, Any]) -> str:
    size = pc["input_size"][-1]
    return (f"RGB; resize to {size}x{size} ignoring the aspect ratio (squash, crop_pct 1.0), "
            f"{pc.get('interpolation', 'bilinear')}; scale to [0, 1]; subtract mean {list(pc['mean'])} and "
            f"divide by std {list(pc['std'])} per channel; layout NCHW float32")


def export_onnx(export_dir: Path) -> dict[str, Any]:
    """Write ``export_dir/model.onnx`` from its model.safetensors and document it in config.json.

    Checks the file on a random batch of two with onnxruntime (when installed) against torch and
    refuses a graph whose probabilities differ by more than ``PARITY_LIMIT``.
    """
    import numpy as np
    import torch

    from .modelio import load_model

    export_dir = Path(export_dir)
    model, labels, cfg = load_model(export_dir)
    pc = cfg.get("pretrained_cfg", {})
    size = int(pc["input_size"][-1])
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
    except ImportError:
        raise UserError("ONNX export needs the onnx package: pip install onnx onnxruntime") from None
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    tmp = export_dir / ".model.onnx.tmp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice and tracer warnings
        torch.onnx.export(model, (x,), str(tmp), input_names=[INPUT], output_names=[OUTPUT],
                          dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    diff = None
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    if ort is not None:
        sess = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        got = _softmax(sess.run([OUTPUT], {INPUT: x.numpy()})[0])
        with torch.inference_mode():
            want = model(x).softmax(-1).numpy()
        diff = float(np.abs(got - want).max())
        if diff > PARITY_LIMIT:
            tmp.unlink(missing_ok=True)
            raise UserError(f"ONNX export of {export_dir} differs from torch by {diff:.2g} (limit {PARITY_LIMIT})")
    tmp.replace(export_dir / "model.onnx")
    info = {
        "file": "model.onnx", "opset": OPSET, "input": INPUT, "output": OUTPUT,
        "input_shape": ["batch", 3, size, size], "dtype": "float32",
        "preprocessing": preprocessing_text(pc),
        "output_is": "logits; softmax over the last axis gives probabilities in label_names order",
        "max_abs_diff_vs_torch": diff,
        "torch": torch.__version__,
        "safetensors_sha256": weights_digest(export_dir),  # a re-export without --onnx makes it stale
    }
    cfg = json.loads((export_dir / "config.json").read_text())
    cfg["onnx"] = info
    atomic_write_text(export_dir / "config.json", json.dumps(cfg, indent=2) + "\n")
    _add_card_section(export_dir, info)
    return info


CARD_SECTION = """
## ONNX (`model.onnx`)

Input `{input}`: float32 `[batch, 3, {size}, {size}]`, {preprocessing}. Output `{output}`: {output_is}.

```python
import json, numpy as np, onnxruntime as ort
from PIL import Image
cfg = json.load(open("{path}/config.json")); pc = cfg["pretrained_cfg"]
x = np.asarray(Image.open("img.jpg").convert("RGB").resize(({size}, {size}), Image.BILINEAR), np.float32) / 255
x = ((x - pc["mean"]) / pc["std"]).transpose(2, 0, 1)[None].astype(np.float32)
logits = ort.InferenceSession("{path}/model.onnx").run(None, {{"{input}": x}})[0][0]
dict(zip(cfg["label_names"], (np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()).tolist()))
```
"""


def _add_card_section(export_dir: Path, info: dict[str, Any]) -> None:
    card_path = export_dir / "README.md"
    card = card_path.read_text() if card_path.exists() else f"# {export_dir.name}\n"
    card = card.split("\n## ONNX (`model.onnx`)", 1)[0].rstrip("\n") + "\n"
    size = info["input_shape"][-1]
    card += CARD_SECTION.format(size=size, path=export_dir.as_posix(), **{k: v for k, v in info.items()})
    atomic_write_text(card_path, card)


def weights_digest(export_dir: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(Path(export_dir) / "model.safetensors", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _softmax(logits):
    import numpy as np

    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
