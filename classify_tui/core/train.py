"""Fine-tune a plain timm model with fastai, reporting through events (never fastprogress)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backbone import DataConfig, create_backbone
from .device import DeviceChoice, choose_device, prepare_device
from .errors import Cancelled
from .events import Event, OnEvent

DEFAULT_LR = 1e-2  # measured on digits at 64 px, 3 epochs: 2e-3 -> 0.26 error, 1e-2 -> 0.064
LR_MULT = 3  # body gets lr/3: on digits 64 px, 3 epochs, lr_mult 10 -> 0.064 error, 3 -> 0.036


@dataclass
class TrainConfig:
    arch: str
    size: int
    epochs: int
    batch_size: int = 64
    lr: float = 0.0
    device: str = "auto"
    weights: str = ""
    flip: bool = True
    seed: int = 42


@dataclass
class TrainOutput:
    model: Any
    data_cfg: DataConfig
    device: DeviceChoice
    epochs: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    images_per_s: float = 0.0


def _make_event_callback(stage: str, on_event: OnEvent, cancel: threading.Event, total_epochs: int):
    from fastai.callback.core import Callback, CancelFitException

    class EventCallback(Callback):
        """Emits epoch/batch events and stops the fit when cancel is set."""

        order = 60  # after Recorder (50), so its values for the epoch exist

        def __init__(self) -> None:
            self.epoch_no = 0
            self.seen = 0
            self.t_phase = time.monotonic()
            self.train_seconds = 0.0
            self.train_images = 0

        def before_fit(self) -> None:
            if cancel.is_set():
                raise CancelFitException()

        def before_epoch(self) -> None:
            self.t_phase = time.monotonic()
            self.seen = 0

        def after_batch(self) -> None:
            if cancel.is_set():
                raise CancelFitException()
            if not self.training:
                return
            self.seen += len(self.learn.yb[0])
            dt = max(time.monotonic() - self.t_phase, 1e-6)
            n_iter = getattr(self.learn, "n_iter", 0) or 1
            on_event(Event(stage, "batch", "", self.iter + 1, n_iter, {
                "epoch": self.epoch_no + 1, "epochs": total_epochs, "loss": float(self.learn.loss.detach()),
                "images_per_s": self.seen / dt, "phase": "train",
            }))

        def after_train(self) -> None:
            self.train_seconds += time.monotonic() - self.t_phase
            self.train_images += self.seen

        def after_epoch(self) -> None:
            self.epoch_no += 1
            vals = self.learn.recorder.values[-1] if self.learn.recorder.values else []
            names = [n for n in self.learn.recorder.metric_names[1:-1]]
            rec = dict(zip(names, (float(v) for v in vals)))
            rec = {"epoch": self.epoch_no, "epochs": total_epochs, **rec,
                   "images_per_s": self.train_images / max(self.train_seconds, 1e-6)}
            on_event(Event(stage, "epoch", f"epoch {self.epoch_no}/{total_epochs}", self.epoch_no, total_epochs, rec))

    return EventCallback()


def _splitter(model: Any) -> list[list[Any]]:
    """Two parameter groups, body and head, so fine_tune can freeze the body first."""
    head = list(model.get_classifier().parameters())
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    return [body, head]


def train_classifier(
    paths: list[Path],
    targets: list[str],
    vocab: list[str],
    valid_idx: list[int],
    cfg: TrainConfig,
    on_event: OnEvent,
    cancel: threading.Event | None = None,
    stage: str = "train",
) -> TrainOutput:
    """Fine-tune on ``paths`` (labels ``targets``) holding out ``valid_idx``."""
    import pandas as pd
    import torch
    from fastai.callback.channelslast import ChannelsLast  # noqa: F401  (patches Learner.to_channelslast)
    from fastai.callback.fp16 import MixedPrecision  # noqa: F401  (patches Learner.to_fp16)
    from fastai.callback.schedule import fit_one_cycle  # noqa: F401  (patches Learner)
    from fastai.data.block import CategoryBlock, DataBlock
    from fastai.data.transforms import ColReader, IndexSplitter, Normalize
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from fastai.metrics import error_rate
    from fastai.vision.augment import Resize, ResizeMethod, aug_transforms
    from fastai.vision.data import ImageBlock
    from fastcore.basics import noop

    cancel = cancel or threading.Event()
    choice = choose_device(cfg.device)
    prepare_device(choice)
    torch.manual_seed(cfg.seed)
    model, data_cfg = create_backbone(cfg.arch, len(vocab), cfg.weights)
    df = pd.DataFrame({"path": [str(p) for p in paths], "label": targets})
    block = DataBlock(
        blocks=(ImageBlock, CategoryBlock(vocab=vocab)),
        get_x=ColReader("path"),
        get_y=ColReader("label"),
        splitter=IndexSplitter(valid_idx),
        item_tfms=Resize(cfg.size, method=ResizeMethod.Squish),
        batch_tfms=[
            *aug_transforms(size=cfg.size, do_flip=cfg.flip, min_scale=0.75),
            Normalize.from_stats(torch.tensor(data_cfg.mean), torch.tensor(data_cfg.std)),
        ],
    )
    device = torch.device(choice.name)
    workers = 0 if choice.name == "cpu" else 4
    bs = min(cfg.batch_size, max(8, (len(paths) - len(valid_idx)) // 4))
    dls = block.dataloaders(df, bs=bs, device=device, num_workers=workers, seed=cfg.seed)
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), metrics=error_rate, splitter=_splitter)
    learn.logger = noop  # Recorder would print the epoch table to stdout
    if choice.channels_last:
        learn.to_channelslast(use_amp=choice.amp)
    elif choice.amp:
        learn.to_fp16()
    total = cfg.epochs
    cb = _make_event_callback(stage, on_event, cancel, total)
    learn.add_cb(cb)
    lr = cfg.lr or DEFAULT_LR
    on_event(Event(stage, "info", f"{cfg.arch} on {choice.name} ({choice.reason}), size {cfg.size}, "
                   f"{cfg.epochs} epochs, lr {lr:g}, {len(paths) - len(valid_idx)} train / {len(valid_idx)} valid",
                   data={"arch": cfg.arch, "device": choice.name, "size": cfg.size, "epochs": cfg.epochs, "lr": lr}))
    t0 = time.monotonic()
    with learn.no_bar():
        # One cycle over the whole network with discriminative rates. fastai's fine_tune spends
        # a frozen epoch first; on small data that epoch moved error 0.64 -> 0.64 (see README).
        learn.fit_one_cycle(cfg.epochs, slice(lr / LR_MULT, lr))
    if cancel.is_set():
        raise Cancelled()
    learn.remove_cb(cb)
    model = learn.model.float().to(memory_format=torch.contiguous_format).eval()
    names = learn.recorder.metric_names[1:-1]
    history = [{"epoch": i + 1, **{n: float(v) for n, v in zip(names, vals)}}
               for i, vals in enumerate(learn.recorder.values)]
    return TrainOutput(model, data_cfg, choice, history, time.monotonic() - t0,
                       cb.train_images / max(cb.train_seconds, 1e-6))


def predict_probs(model: Any, paths: list[Path], size: int, data_cfg: DataConfig, device: str,
                  batch_size: int = 128, cancel: threading.Event | None = None):
    """Softmax probabilities with exactly the export's preprocessing (squish, bilinear, mean/std)."""
    import numpy as np
    import torch
    from PIL import Image

    mean = torch.tensor(data_cfg.mean).view(1, 3, 1, 1)
    std = torch.tensor(data_cfg.std).view(1, 3, 1, 1)
    dev = torch.device(device)
    model = model.to(dev).eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(paths), batch_size):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            arrs = []
            for p in paths[i : i + batch_size]:
                with Image.open(p) as im:
                    im = im.convert("RGB").resize((size, size), Image.BILINEAR)
                    arrs.append(np.asarray(im, dtype=np.uint8))
            x = torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).float().div_(255)
            x = ((x - mean) / std).to(dev)
            out.append(torch.softmax(model(x).float(), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
