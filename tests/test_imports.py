"""Fast commands must not import torch/fastai; core must not import a UI library."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "classify_tui" / "core"

PROBE = """
import sys, runpy
sys.argv = {argv!r}
try:
    runpy.run_module("classify_tui.cli", run_name="__main__")
except SystemExit:
    pass
heavy = sorted(m for m in ("torch", "fastai", "timm", "textual") if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


def heavy_modules(argv, cwd):
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=["classify-tui", *argv])],
                         capture_output=True, text=True, cwd=cwd, timeout=120)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY:")][-1]
    return [m for m in line[6:].split(",") if m]


def test_help_and_data_commands_do_not_import_torch(tmp_path):
    assert heavy_modules(["--help"], tmp_path) == []
    assert heavy_modules(["build", "--help"], tmp_path) == []
    assert heavy_modules(["build", "--source", "digits", "--labels", "7", "--stop-after", "verify", "--plain"], tmp_path) == []
    assert (tmp_path / "datasets" / "digits" / "manifest.csv").exists()
    assert heavy_modules(["list"], tmp_path) == []


def test_core_imports_no_ui_library():
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] not in ("textual", "rich", "textual_image"), f"{path}: {n}"
