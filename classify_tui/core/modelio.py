"""Save and load models in timm's Hugging Face layout: safetensors + config.json, no pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .backbone import DataConfig
from .errors import UserError
from .workspace import atomic_write_text


def save_model(model: Any, directory: Path, arch: str, labels: list[str], size: int, data_cfg: DataConfig) -> None:
    """Write model.safetensors and a config.json whose pretrained_cfg matches training."""
    from timm.models import save_for_hf

    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "input_size": (3, size, size),
        "mean": tuple(data_cfg.mean),
        "std": tuple(data_cfg.std),
        "interpolation": data_cfg.interpolation,
        "crop_pct": 1.0,
        "crop_mode": "squash",
    }
    model_config = {
        "label_names": list(labels),
        "pretrained_cfg": {**data, "num_classes": len(labels), "label_names": list(labels)},
    }
    save_for_hf(model.cpu().eval(), str(directory), model_config=model_config, safe_serialization=True, data_config=data)
    cfg_path = directory / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["architecture"] = cfg.get("architecture") or arch
    cfg["num_classes"] = len(labels)
    cfg["label_names"] = list(labels)
    pc = cfg.setdefault("pretrained_cfg", {})
    pc.update({k: list(v) if isinstance(v, tuple) else v for k, v in data.items()})
    atomic_write_text(cfg_path, json.dumps(cfg, indent=2) + "\n")  # readers never see half a config


def load_model(directory: Path) -> tuple[Any, list[str], dict[str, Any]]:
    """Load through timm's own ``local-dir:`` loader, exactly as a stranger would."""
    import timm

    directory = Path(directory)
    cfg_path = directory / "config.json"
    if not cfg_path.is_file() or not (directory / "model.safetensors").is_file():
        raise UserError(f"{directory} is not an exported model (needs config.json and model.safetensors)")
    cfg = json.loads(cfg_path.read_text())
    model = timm.create_model(f"local-dir:{directory.resolve()}", pretrained=True)
    return model.eval(), list(cfg.get("label_names") or []), cfg


def data_config_of(cfg: dict[str, Any]) -> DataConfig:
    pc = cfg.get("pretrained_cfg", {})
    return DataConfig(tuple(pc["mean"]), tuple(pc["std"]), pc.get("interpolation", "bilinear"))  # type: ignore[arg-type]
