import pytest

from classify_tui.core.device import choose_device
from classify_tui.core.errors import UserError


def test_auto_prefers_cuda_then_mps_then_cpu():
    assert choose_device("auto", cuda_available=True, mps_available=True, cuda_count=1).name == "cuda"
    c = choose_device("auto", cuda_available=True, mps_available=False, cuda_count=1)
    assert c.amp and c.channels_last
    assert choose_device("auto", cuda_available=False, mps_available=True).name == "mps"
    cpu = choose_device("auto", cuda_available=False, mps_available=False)
    assert cpu.name == "cpu" and not cpu.amp


def test_mps_needs_is_available_not_is_built(monkeypatch):
    import torch

    # An Intel Mac has MPS built but not available: never pick it (fastai falls back to is_built()).
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert choose_device("auto", cuda_available=False).name == "cpu"
    with pytest.raises(UserError, match="is_available"):
        choose_device("mps", cuda_available=False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)  # Apple silicon
    assert choose_device("auto", cuda_available=False).name == "mps"


def test_explicit_requests_are_checked():
    assert choose_device("cpu", cuda_available=True, mps_available=True).name == "cpu"
    assert choose_device("cuda:1", cuda_available=True, mps_available=False, cuda_count=2).name == "cuda:1"
    with pytest.raises(UserError, match="only 1"):
        choose_device("cuda:1", cuda_available=True, mps_available=False, cuda_count=1)
    with pytest.raises(UserError, match="not available"):
        choose_device("cuda", cuda_available=False, mps_available=False)
    with pytest.raises(UserError):
        choose_device("tpu", cuda_available=False, mps_available=False)
