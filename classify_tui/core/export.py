"""Export the trained model to exports/NAME in timm's HF layout, with a short model card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import failpoints
from .errors import UserError
from .events import OnEvent
from .report import Report
from .stage_results import ExportResult
from .train_stage import model_dir
from .workspace import Recipe, Workspace, atomic_write_text

CARD = """# {name}

Image classifier fine-tuned with classify-tui ({arch}, {size}px, squish resize).

- Labels: {labels}
- Images: {n_images} ({n_train} train / {n_valid} validation)
- Validation error rate: {error_rate}

## Load it (plain timm, no pickle)

```python
{snippet}
```
"""

SNIPPET = """import timm
from PIL import Image
m = timm.create_model("local-dir:{path}", pretrained=True).eval()
t = timm.data.create_transform(**timm.data.resolve_data_config({{}}, model=m))
p = m(t(Image.open("img.jpg").convert("RGB"))[None]).softmax(-1)[0]
dict(zip(m.pretrained_cfg["label_names"], p.tolist()))  # label -> probability"""


def load_snippet(export_dir: Path) -> str:
    """The five lines (plus the result) that load an export with plain timm."""
    return SNIPPET.format(path=Path(export_dir).as_posix())


def run_export(ws: Workspace, recipe: Recipe, exports_dir: Path, on_event: OnEvent, report: Report) -> ExportResult:
    src = model_dir(ws)
    if not (src / "model.safetensors").exists():
        raise UserError(f"{ws.name} has no trained model yet; run build without --stop-after first")
    dest = exports_dir / ws.name
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / ".model.safetensors.tmp"
    shutil.copyfile(src / "model.safetensors", tmp)
    tmp.replace(dest / "model.safetensors")
    cfg = json.loads((src / "config.json").read_text())
    cfg["classify_tui"] = training_meta(recipe)
    atomic_write_text(dest / "config.json", json.dumps(cfg, indent=2) + "\n")
    card = CARD.format(
        name=ws.name, arch=recipe.arch, size=recipe.size, labels=", ".join(recipe.labels),
        n_images=report.n_train + report.n_valid, n_train=report.n_train, n_valid=report.n_valid,
        error_rate="?" if report.error_rate is None else report.error_rate, snippet=load_snippet(dest),
    )
    failpoints.point("export")
    atomic_write_text(dest / "README.md", card)
    report.export_dir = dest.as_posix()
    return ExportResult(export_dir=dest.as_posix(), num_classes=cfg.get("num_classes"))


def export_workspace(ws: Workspace, exports_dir: Path, on_event: OnEvent) -> Path:
    """Export outside a build (the TUI's Export screen), journalled like the build's stage."""
    report = ws.load_report()
    result = run_export(ws, ws.load_recipe(), exports_dir, on_event, report)
    report.counts["export"] = result.to_dict()
    ws.journal("stage_done", stage="export", counts=result.to_dict())
    ws.save_report(report)
    return Path(result.export_dir)


def training_meta(recipe: Recipe) -> dict[str, object]:
    """What prediction needs to know about training beyond pretrained_cfg, kept in config.json
    under ``classify_tui``: whether it flipped images (test-time augmentation mirrors only then),
    shuffled channels, and the source kind (no local paths)."""
    return {"flip": bool(recipe.flip), "shuffle_channels": bool(recipe.shuffle_channels),
            "source": recipe.source.split(":", 1)[0]}


def export_more(ws: Workspace, exports_dir: Path, on_event: OnEvent, onnx: bool = False) -> Path:
    """``classify-tui export NAME [--onnx]`` and the Export screen: the export and optionally model.onnx."""
    dest = export_workspace(ws, exports_dir, on_event)
    if onnx:
        from .onnx_export import export_onnx

        export_onnx(dest)
    return dest
