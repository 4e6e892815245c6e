"""Fine-tune a plain timm model with fastai, reporting through events (never fastprogress)."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import failpoints
from .backbone import DataConfig, create_backbone
from .device import DeviceChoice, choose_device, prepare_device
from .errors import Cancelled
from .events import BatchDone, EpochDone, Event, OnEvent, TrainingStarted
from .imageload import SquishedImages, batched_arrays, load_squished

DEFAULT_LR = 1e-2  # measured on digits at 64 px, 3 epochs: 2e-3 -> 0.26 error, 1e-2 -> 0.064
LR_MULT = 3  # body gets lr/3: on digits 64 px, 3 epochs, lr_mult 10 -> 0.064 error, 3 -> 0.036


@dataclass
class TrainConfig:
    arch: str
    size: int
    epochs: int
    batch_size: int = 0  # 0: auto_batch_size()
    lr: float = 0.0
    device: str = "auto"
    weights: str = ""
    flip: bool = True
    shuffle_channels: bool = False  # colour carries no label (digits): show each image in a random channel order
    seed: int = 42
    workers: int | None = None  # data loader worker processes; None: 0 on CPU, up to 8 on CUDA
    dynamics: bool = True  # record each training image's margin per epoch (area under the margin)
    truncate: float | None = None  # drop images whose mean margin so far is below this (see _dynamics_callback)


@dataclass
class TrainOutput:
    model: Any
    data_cfg: DataConfig
    device: DeviceChoice
    epochs: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    images_per_s: float = 0.0  # training images per second of training-phase wall time
    # training images per second spent inside forward, backward and step: the model's own speed
    # on this device, size and batch; images_per_s / this = how little the data path costs
    compute_images_per_s: float = 0.0
    # (n_images, epochs) margin of the given label over the best other label, in logits, as the
    # model saw each training image in each epoch (augmented, before that batch's update); NaN for
    # validation images and for images an epoch's drop_last left out.
    margins: Any = None


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
            self.compute_seconds = 0.0
            self.t_batch = 0.0
            self.on_cuda = False

        def before_fit(self) -> None:
            self.on_cuda = next(self.learn.model.parameters()).is_cuda
            if cancel.is_set():
                raise CancelFitException()

        def before_epoch(self) -> None:
            self.t_phase = time.monotonic()
            self.seen = 0

        def before_batch(self) -> None:
            if self.training:
                self.t_batch = time.monotonic()

        def after_step(self) -> None:
            if self.on_cuda:
                import torch

                torch.cuda.synchronize()
            self.compute_seconds += time.monotonic() - self.t_batch

        def after_batch(self) -> None:
            failpoints.point("train")
            if cancel.is_set():
                raise CancelFitException()
            if not self.training:
                return
            self.seen += len(self.learn.yb[0])
            dt = max(time.monotonic() - self.t_phase, 1e-6)
            n_iter = getattr(self.learn, "n_iter", 0) or 1
            on_event(Event(stage, "batch", "", self.iter + 1, n_iter, BatchDone(
                epoch=self.epoch_no + 1, epochs=total_epochs, loss=float(self.learn.loss.detach()),
                images_per_s=self.seen / dt)))

        def after_train(self) -> None:
            self.train_seconds += time.monotonic() - self.t_phase
            self.train_images += self.seen

        def after_epoch(self) -> None:
            self.epoch_no += 1
            vals = self.learn.recorder.values[-1] if self.learn.recorder.values else []
            names = [n for n in self.learn.recorder.metric_names[1:-1]]
            rec = dict(zip(names, (float(v) for v in vals)))
            done = EpochDone(
                epoch=self.epoch_no, epochs=total_epochs, train_loss=rec.get("train_loss", math.nan),
                valid_loss=rec.get("valid_loss", math.nan), error_rate=rec.get("error_rate", math.nan),
                images_per_s=self.train_images / max(self.train_seconds, 1e-6),
                model_images_per_s=self.train_images / max(self.compute_seconds, 1e-6))
            on_event(Event(stage, "epoch", f"epoch {self.epoch_no}/{total_epochs}", self.epoch_no, total_epochs, done))

    return EventCallback()


def _splitter(model: Any) -> list[list[Any]]:
    """Two parameter groups, body and head, so fine_tune can freeze the body first."""
    head = list(model.get_classifier().parameters())
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    return [body, head]


def _dynamics_callback(n: int, epochs: int, truncate: float | None = None, truncate_from: float = 0.4):
    """Takes the image indices out of each batch and records every training image's margin.

    With ``truncate``, from ``truncate_from`` of the way through training on, images whose mean
    margin so far is below ``truncate`` (their label has lost to another on average) stop
    contributing to the loss: probably mislabelled, they would only teach the network the flip.
    """
    import numpy as np
    import torch
    from fastai.callback.core import Callback

    class Dynamics(Callback):
        order = -20  # before_batch: strip the indices before any other callback sees the targets

        def __init__(self) -> None:
            self.margins = np.full((n, epochs), np.nan, dtype=np.float32)
            self.idx = None

        def before_batch(self) -> None:
            yb = self.learn.yb
            self.idx = yb[1] if len(yb) > 1 else None
            self.learn.yb = yb[:1]

        def after_loss(self) -> None:
            if not self.training or self.idx is None:
                return
            idx = self.idx.cpu().numpy()
            with torch.no_grad():
                logits = self.learn.pred.detach().float()
                y = self.learn.yb[0].long()
                given = logits.gather(1, y[:, None])[:, 0]
                others = logits.scatter(1, y[:, None], float("-inf")).amax(1)
                margin = (given - others).cpu().numpy()
            e = min(self.epoch, epochs - 1)
            if truncate is not None and e >= 1 and self.pct_train >= truncate_from:
                with np.errstate(invalid="ignore"):
                    past = np.nanmean(self.margins[idx, :e], axis=1)
                keep = torch.from_numpy(~(past < truncate)).to(self.learn.pred.device)
                if not bool(keep.all()):
                    per = torch.nn.functional.cross_entropy(self.learn.pred.float(), y, reduction="none")
                    self.learn.loss_grad = (per * keep).sum() / keep.sum().clamp(min=1)
            self.margins[idx, e] = margin

    return Dynamics()


class _Loaders:
    """fastai DataLoaders whose batches are (x, y, index): one input."""

    @staticmethod
    def make(*loaders, device):
        from fastai.data.core import DataLoaders

        cls = type("IndexedDataLoaders", (DataLoaders,), {"n_inp": 1})
        return cls(*loaders, device=device)


def _batch_pipeline(data_cfg: DataConfig, size: int, flip: bool, train: bool, channels_last: bool,
                    shuffle_channels: bool = False):
    """uint8 batch on the device -> normalised float batch, with fastai's aug_transforms in training
    (and, for sources whose colour carries no label, a random channel order per image: on tinted
    digits, 5 epochs, validation error 6-7% -> 4-5.5%)."""
    import torch
    from fastai.data.core import Pipeline
    from fastai.torch_core import TensorImage
    from fastai.vision.augment import aug_transforms

    augs = Pipeline(aug_transforms(size=size, do_flip=flip, min_scale=0.75), split_idx=0) if train else None
    stats: dict[str, Any] = {}

    def after_batch(b):
        x, y, idx = b
        if "mean" not in stats or stats["mean"].device != x.device:
            stats["mean"] = torch.tensor(data_cfg.mean, device=x.device).view(1, 3, 1, 1)
            stats["std"] = torch.tensor(data_cfg.std, device=x.device).view(1, 3, 1, 1)
        x = x.float().div_(255)
        if augs is not None:
            x = augs(TensorImage(x)).as_subclass(torch.Tensor)
            if shuffle_channels:
                order = torch.argsort(torch.rand(x.shape[0], 3, device=x.device), dim=1)
                x = x.gather(1, order[:, :, None, None].expand_as(x))
        x = (x - stats["mean"]) / stats["std"]
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y, idx

    return after_batch


def auto_batch_size(size: int, device: str) -> int:
    """64 on accelerators; on CPU 32 from 128 px up.

    Measured on 2 cores, lite0 fwd+bwd at 224 px: batch 64 ran at 8-10 img/s, batch 32 at
    15-19 (each activation of a batch of 64 is hundreds of MB, and the allocator maps and zeroes
    fresh pages for it every step: 7 million page faults in 130 images); at 64 px both ran at
    120-135.
    """
    if device == "cpu" and size >= 128:
        return 32
    return 64


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
    """Fine-tune on ``paths`` (labels ``targets``) holding out ``valid_idx``.

    The recipe is the one measured in bench/: squish to ``cfg.size``, fastai's aug_transforms on
    the batch, one cycle over the whole network with the body at lr/3.
    """
    import random

    import numpy as np
    import torch
    from fastai.callback.channelslast import ChannelsLast  # noqa: F401  (patches Learner.to_channelslast)
    from fastai.callback.fp16 import MixedPrecision  # noqa: F401  (patches Learner.to_fp16)
    from fastai.callback.schedule import fit_one_cycle  # noqa: F401  (patches Learner)
    from fastai.data.load import DataLoader
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from fastai.metrics import error_rate
    from fastcore.basics import noop

    cancel = cancel or threading.Event()
    choice = choose_device(cfg.device)
    prepare_device(choice)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    model, data_cfg = create_backbone(cfg.arch, len(vocab), cfg.weights)
    index = {lab: i for i, lab in enumerate(vocab)}
    y = [index[t] for t in targets]
    vset = set(valid_idx)
    train_idx = [i for i in range(len(paths)) if i not in vset]
    device = torch.device(choice.name)
    cuda = choice.name.startswith("cuda")
    workers = cfg.workers if cfg.workers is not None else (min(8, os.cpu_count() or 1) if cuda else 0)
    bs = min(cfg.batch_size or auto_batch_size(cfg.size, choice.name), max(8, len(train_idx) // 4))

    def make(idx: list[int], train: bool):
        ds = SquishedImages([paths[i] for i in idx], [y[i] for i in idx], cfg.size, positions=idx)
        return DataLoader(ds, bs=bs if train else bs * 2, shuffle=train, drop_last=train, num_workers=workers,
                          pin_memory=cuda, device=device, persistent_workers=bool(workers),
                          after_batch=_batch_pipeline(data_cfg, cfg.size, cfg.flip, train, choice.channels_last,
                                                      cfg.shuffle_channels))

    dls = _Loaders.make(make(train_idx, True), make(list(valid_idx), False), device=device)
    learn = Learner(dls, model, loss_func=CrossEntropyLossFlat(), metrics=error_rate, splitter=_splitter)
    learn.logger = noop  # Recorder would print the epoch table to stdout
    if choice.channels_last:
        learn.to_channelslast(use_amp=choice.amp)
    elif choice.amp:
        learn.to_fp16()
    total = cfg.epochs
    dyn = _dynamics_callback(len(paths), total, cfg.truncate)
    learn.add_cb(dyn)
    cb = _make_event_callback(stage, on_event, cancel, total)
    learn.add_cb(cb)
    lr = cfg.lr or DEFAULT_LR
    on_event(Event(stage, "info", f"{cfg.arch} on {choice.name} ({choice.reason}), size {cfg.size}, "
                   f"{cfg.epochs} epochs, lr {lr:g}, {len(train_idx)} train / {len(valid_idx)} valid",
                   data=TrainingStarted(cfg.arch, choice.name, cfg.size, cfg.epochs, lr)))
    t0 = time.monotonic()
    with learn.no_bar():
        # One cycle over the whole network with discriminative rates. fastai's fine_tune spends
        # a frozen epoch first; measured no better here (bench/bench_train.py).
        learn.fit_one_cycle(cfg.epochs, slice(lr / LR_MULT, lr))
    if cancel.is_set():
        raise Cancelled()
    learn.remove_cbs([cb, dyn])
    model = learn.model.float().eval()
    names = learn.recorder.metric_names[1:-1]
    history = [{"epoch": i + 1, **{n: float(v) for n, v in zip(names, vals)}}
               for i, vals in enumerate(learn.recorder.values)]
    margins = dyn.margins
    margins[list(valid_idx)] = np.nan
    return TrainOutput(model, data_cfg, choice, history, time.monotonic() - t0,
                       cb.train_images / max(cb.train_seconds, 1e-6), cb.train_images / max(cb.compute_seconds, 1e-6),
                       margins)


@dataclass
class Inference:
    probs: Any  # (n, C) float32 softmax
    features: Any = None  # (n, D) float32 pooled penultimate activations, if asked for
    seconds: float = 0.0


def infer_batch_size(device_type: str, size: int) -> int:
    """Images per inference pass: 16 on CPU from 128 px (as auto_batch_size halves training's), else 64."""
    return 16 if device_type == "cpu" and size >= 128 else 64


def infer(model: Any, paths: list[Path], size: int, data_cfg: DataConfig, device: str, batch_size: int = 0,
          cancel: threading.Event | None = None, features: bool = False, workers: int = 2,
          load: Callable[[Path | str, int], Any] = load_squished, views: int = 1) -> Inference:
    """Softmax probabilities (and optionally embeddings) with exactly the export's preprocessing.

    Images are decoded by ``workers`` threads two batches ahead of the model; the model runs
    channels_last (2x faster on CPU) and in mixed precision on CUDA. A ``load`` that returns
    ``views`` arrays per image (test-time augmentation, core/tta.py) gives ``views`` rows of
    probabilities per image, in order.
    """
    import numpy as np
    import torch

    t0 = time.monotonic()
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    batch_size = batch_size or max(1, infer_batch_size(dev.type, size) // views)  # images (x views) per pass
    mean = torch.tensor(data_cfg.mean, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(data_cfg.std, device=dev).view(1, 3, 1, 1)
    model = model.to(dev).eval()
    if dev.type != "mps":
        model = model.to(memory_format=torch.channels_last)
    probs, feats = [], []
    try:
        with torch.inference_mode(), torch.autocast("cuda", enabled=cuda):
            for arr in batched_arrays(paths, size, batch_size, workers, load=load):
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                arr = arr.reshape(-1, size, size, 3)  # (images x views, H, W, 3)
                x = torch.from_numpy(arr).to(dev, non_blocking=True).permute(0, 3, 1, 2).float().div_(255)
                x = ((x - mean) / std).contiguous(memory_format=torch.channels_last)
                if features:
                    f = model.forward_head(model.forward_features(x), pre_logits=True)
                    logits = model.get_classifier()(f)
                    feats.append(f.float().cpu().numpy())
                else:
                    logits = model(x)
                probs.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
    finally:
        model.to(memory_format=torch.contiguous_format)
    p = np.concatenate(probs) if probs else np.zeros((0, 0), dtype=np.float32)
    f = np.concatenate(feats) if feats else None
    return Inference(p.astype(np.float32), f, time.monotonic() - t0)


def predict_probs(model: Any, paths: list[Path], size: int, data_cfg: DataConfig, device: str,
                  batch_size: int = 0, cancel: threading.Event | None = None):
    """Softmax probabilities with exactly the export's preprocessing (squish, bilinear, mean/std)."""
    return infer(model, paths, size, data_cfg, device, batch_size, cancel).probs
