"""A Hugging Face Space from an export: exports/NAME/space/ with a Gradio app, and the upload.

The folder is self-contained, so it can be pushed as it is:

- ``app.py``: a Gradio classifier (``space_template/app.py``) that loads ``model.safetensors``
  through ``timm.create_model("local-dir:...")`` with timm's own transform; no pickle and no
  import of classify_tui, so it runs on a bare Space;
- ``model.safetensors``, ``config.json``: copies of the export;
- ``requirements.txt``: the versions this export was made with;
- ``README.md``: the Spaces YAML header (title, sdk: gradio, app_file) and the model card;
- ``examples/``: a few validation images of the workspace, when it is here.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from importlib import metadata
from pathlib import Path

from .errors import UserError

TEMPLATE = Path(__file__).resolve().parent / "space_template" / "app.py"
REQUIREMENTS = ("torch", "torchvision", "timm", "safetensors", "pillow", "numpy")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist).split("+", 1)[0]  # 2.14.1+cpu -> 2.14.1
    except metadata.PackageNotFoundError:
        return None


def requirements_text() -> str:
    lines = [f"{d}=={v}" for d in REQUIREMENTS if (v := _version(d))]
    gradio = _version("gradio")
    note = (f"# gradio {gradio} comes from sdk_version in README.md; locally: pip install gradio=={gradio}"
            if gradio else "# gradio comes from sdk in README.md; locally: pip install gradio")
    return "# the versions this export was made with\n" + "\n".join(lines) + "\n" + note + "\n"


def readme_text(title: str, card: str) -> str:
    gradio = _version("gradio")
    header = ["---", f"title: {json.dumps(title)}", "emoji: 🔎", "colorFrom: blue", "colorTo: gray",
              "sdk: gradio", *([f"sdk_version: {gradio}"] if gradio else []), "app_file: app.py",
              "pinned: false", "---", ""]
    body = card.strip() or f"# {title}"
    return "\n".join(header) + body.replace("local-dir:exports/", "local-dir:./").rstrip() + "\n"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "x"


def example_images(ws_root: Path, n: int) -> list[tuple[str, Path]]:
    """Up to ``n`` (label, path) validation images, one label after another; images the review
    found nothing wrong with first. Falls back to kept images when there is no review.csv."""
    if n <= 0 or not ws_root.is_dir():
        return []
    by_label: dict[str, list[Path]] = {}
    review = ws_root / "review.csv"
    if review.exists():
        with open(review, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if r.get("split") == "valid"]
        rows.sort(key=lambda r: r.get("kind", "ok") != "ok")
        for r in rows:
            p = ws_root / r["path"] if not Path(r["path"]).is_absolute() else Path(r["path"])
            if p.is_file():
                by_label.setdefault(r["label"], []).append(p)
    else:
        images = ws_root / "images"
        for d in sorted(images.iterdir()) if images.is_dir() else []:
            files = sorted(f for f in d.iterdir() if f.is_file()) if d.is_dir() else []
            if files:
                by_label[d.name] = files
    out: list[tuple[str, Path]] = []
    k = 0
    while len(out) < n and any(k < len(v) for v in by_label.values()):
        for label, paths in sorted(by_label.items()):
            if k < len(paths) and len(out) < n:
                out.append((label, paths[k]))
        k += 1
    return out


def write_space(export_dir: Path, datasets: Path | None = None, examples: int = 4) -> Path:
    """Write ``export_dir/space/`` (replacing an older one) and return its path."""
    export_dir = Path(export_dir)
    if not (export_dir / "model.safetensors").is_file() or not (export_dir / "config.json").is_file():
        raise UserError(f"{export_dir} is not an export (needs model.safetensors and config.json): "
                        f"run classify-tui export {export_dir.name} first")
    name = export_dir.resolve().name
    space = export_dir / "space"
    tmp = export_dir / ".space.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "examples").mkdir(parents=True)
    for f in ("model.safetensors", "config.json"):
        shutil.copyfile(export_dir / f, tmp / f)
    app = TEMPLATE.read_text()
    if 'TITLE = "classifier"' not in app:
        raise RuntimeError("space_template/app.py lost its TITLE line")
    (tmp / "app.py").write_text(app.replace('TITLE = "classifier"', f"TITLE = {name!r}", 1))
    (tmp / "requirements.txt").write_text(requirements_text())
    card = (export_dir / "README.md").read_text() if (export_dir / "README.md").exists() else ""
    (tmp / "README.md").write_text(readme_text(name, card))
    ws_root = Path(datasets) / name if datasets is not None else Path("/nonexistent")
    for i, (label, path) in enumerate(example_images(ws_root, examples)):
        shutil.copyfile(path, tmp / "examples" / f"{i:02d}_{_safe(label)}{path.suffix.lower()}")
    if space.exists():
        old = export_dir / ".space.old"
        shutil.rmtree(old, ignore_errors=True)
        space.rename(old)
        tmp.rename(space)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(space)
    return space


def push_space(space: Path, repo: str) -> str:
    """Upload ``space`` to the Hugging Face Space ``repo`` (created if missing); its URL.

    Needs a token (``HF_TOKEN`` or ``hf auth login``); offline or refused, one line says why."""
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", repo):
        raise UserError(f"--push {repo}: expected a Space id like user/name")
    try:
        from huggingface_hub import HfApi, get_token
    except ImportError:
        raise UserError("--push needs huggingface_hub: pip install huggingface_hub") from None
    token = get_token()
    if not token:
        raise UserError("--push needs a Hugging Face token: set HF_TOKEN or run `hf auth login`")
    api = HfApi(token=token)
    try:
        api.create_repo(repo, repo_type="space", space_sdk="gradio", exist_ok=True)
        api.upload_folder(folder_path=str(space), repo_id=repo, repo_type="space",
                          commit_message="classify-tui space")
    except Exception as exc:  # network, auth, offline mode: all expected here, none a bug of ours
        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
        raise UserError(f"could not push to the Space {repo} ({exc.__class__.__name__}): {reason}") from None
    return f"https://huggingface.co/spaces/{repo}"
