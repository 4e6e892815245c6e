"""Library warnings that would only print over progress bars or the app: one list, used by the
CLI and by the app's build process alike."""

from __future__ import annotations

import warnings


def quiet_library_warnings() -> None:
    # Verify rejects oversized images itself; PIL's warning would only print over the progress/TUI.
    warnings.filterwarnings("ignore", message=".*decompression bomb.*")
    # timm and fastai decorate with torch.jit.script at import; torch 2.10+ warns about it there.
    warnings.filterwarnings("ignore", message=".*torch.jit.script.* is deprecated", category=FutureWarning)
    # fastai's tabular module (imported by fastai.vision.all) sets a pandas option pandas 3 deprecated.
    warnings.filterwarnings("ignore", message=".*mode.chained_assignment.*")
