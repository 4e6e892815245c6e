"""Predict with an exported model using exactly the preprocessing its config.json declares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .modelio import load_model


@dataclass
class Prediction:
    path: str
    label: str = ""
    prob: float = 0.0
    probs: dict[str, float] = field(default_factory=dict)
    error: str = ""


@dataclass
class LoadedModel:
    model: Any
    labels: list[str]
    transform: Any


def load_exported(directory: Path) -> LoadedModel:
    import timm.data

    model, labels, _cfg = load_model(directory)
    transform = timm.data.create_transform(**timm.data.resolve_data_config({}, model=model))
    return LoadedModel(model, labels, transform)


def predict_paths(lm: LoadedModel, paths: list[Path | Any]) -> list[Prediction]:
    """One Prediction per path (or binary file object, such as a drawing's PNG in a BytesIO),
    in order; a bad image yields an error, not an exception."""
    import torch
    from PIL import Image, UnidentifiedImageError

    out = []
    for p in paths:
        name = str(p) if isinstance(p, (str, Path)) else getattr(p, "name", "image")
        try:
            with Image.open(p) as im:
                x = lm.transform(im.convert("RGB"))[None]
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            out.append(_unreadable(name, exc))
            continue
        with torch.inference_mode():
            out.append(_prediction(name, lm.labels, lm.model(x).softmax(-1)[0].tolist()))
    return out


def _unreadable(name: str, exc: Exception) -> Prediction:
    return Prediction(name, error=f"cannot read image: {exc.__class__.__name__}: {exc}"[:200])


def _prediction(name: str, labels: list[str], probs: list[float]) -> Prediction:
    best = max(range(len(probs)), key=probs.__getitem__)
    return Prediction(name, labels[best], round(probs[best], 6), {lab: round(v, 6) for lab, v in zip(labels, probs)})


# --- runtimes (torch or onnxruntime) and test-time augmentation -------------------------------

RUNTIMES = ("torch", "onnx")


@dataclass
class Runner:
    """An exported model behind one call: float32 NCHW (preprocessed) -> softmax probabilities."""

    runtime: str
    labels: list[str]
    size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str
    flip: bool  # may test-time augmentation mirror images? (training did)
    run: Any  # Callable[[np.ndarray], np.ndarray]


def tta_flip(directory: Path, cfg: dict[str, Any], datasets: Path | None = None) -> bool:
    """Whether the export's training flipped images: config.json's ``classify_tui.flip`` (written
    by ``classify-tui export``), else the workspace recipe of the same name, else True."""
    import json

    meta = cfg.get("classify_tui") or {}
    if isinstance(meta.get("flip"), bool):
        return meta["flip"]
    if datasets is not None:
        recipe = Path(datasets) / Path(directory).resolve().name / "recipe.json"
        try:
            return bool(json.loads(recipe.read_text()).get("flip", True))
        except (OSError, ValueError):
            pass
    return True


def load_runner(directory: Path, runtime: str = "torch", datasets: Path | None = None) -> Runner:
    """The export in ``directory`` on ``runtime``; ``onnx`` imports neither torch nor timm."""
    import json

    from .errors import UserError

    directory = Path(directory)
    cfg_path = directory / "config.json"
    if runtime not in RUNTIMES:
        raise UserError(f"unknown runtime {runtime!r} (torch or onnx)")
    if not cfg_path.is_file():
        raise UserError(f"{directory} is not an exported model (needs config.json)")
    cfg = json.loads(cfg_path.read_text())
    pc = cfg.get("pretrained_cfg", {})
    common = dict(labels=list(cfg.get("label_names") or []), size=int(pc["input_size"][-1]),
                  mean=tuple(pc["mean"]), std=tuple(pc["std"]), interpolation=pc.get("interpolation", "bilinear"),
                  flip=tta_flip(directory, cfg, datasets))
    if runtime == "onnx":
        from .onnx_export import weights_digest

        info = cfg.get("onnx") or {}
        onnx_path = directory / info.get("file", "model.onnx")
        if not onnx_path.is_file():
            raise UserError(f"{directory} has no model.onnx: run classify-tui export {directory.name} --onnx")
        if info.get("safetensors_sha256") != weights_digest(directory):
            raise UserError(f"{onnx_path} is not from this export's model.safetensors: "
                            f"run classify-tui export {directory.name} --onnx")
        try:
            import onnxruntime as ort
        except ImportError:
            raise UserError("--runtime onnx needs onnxruntime: pip install onnxruntime") from None
        sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name

        def run_onnx(x):
            from .onnx_export import _softmax

            return _softmax(sess.run(None, {name: x})[0])

        return Runner("onnx", run=run_onnx, **common)

    lm = load_exported(directory)

    def run_torch(x):
        import torch

        with torch.inference_mode():
            return lm.model(torch.from_numpy(x)).softmax(-1).numpy()

    return Runner("torch", run=run_torch, **common)


def predict_images(runner: Runner, paths: list[Path], tta: bool = False) -> list[Prediction]:
    """One Prediction per path, preprocessed in numpy exactly as the export's timm transform
    (full decode, squash, mean/std); with ``tta`` the plain view is averaged with cropped (and,
    where training flipped, mirrored) views as in ``core/tta.py``."""
    from PIL import Image, UnidentifiedImageError

    from .tta import combine, normalize, squished_views

    out = []
    for p in paths:
        try:
            with Image.open(p) as im:
                views = squished_views(im.convert("RGB"), runner.size, runner.flip, tta, runner.interpolation)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            out.append(_unreadable(str(p), exc))
            continue
        probs = combine(runner.run(normalize(views, runner.mean, runner.std))[None])[0].tolist()
        out.append(_prediction(str(p), runner.labels, probs))
    return out
