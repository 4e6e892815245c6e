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


BANNED = ("textual", "rich", "textual_image", "classify_tui.tui", "classify_tui.cli", "classify_tui.progress")


def layering_violations(package_dir: Path, package: str) -> list[str]:
    """What in ``package_dir`` (the module ``package``) breaks core's rules: an import of a UI
    library or of the app/CLI layers, absolute or relative, or a call to print()."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir).with_suffix("")
        parts = package.split(".") + [p for p in rel.parts if p != "__init__"]
        here = parts if path.name == "__init__.py" else parts[:-1]  # the package this module is in
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # resolve "from ..tui import x" against this module's package
                    base = here[: len(here) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                    names = [mod] + [f"{mod}.{a.name}" for a in node.names]
                else:
                    names = [node.module or ""]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                found.append(f"{path.name}:{node.lineno}: print()")
            for n in names:
                if any(n == b or n.startswith(b + ".") for b in BANNED):
                    found.append(f"{path.name}:{node.lineno}: imports {n}")
    return found


def test_core_keeps_its_layer():
    assert layering_violations(CORE, "classify_tui.core") == []


def test_layering_check_catches_planted_violations(tmp_path):
    pkg = tmp_path / "core"
    (pkg / "sources").mkdir(parents=True)
    (pkg / "sources" / "bad.py").write_text("from ...tui import app\nfrom ..events import Event\n")
    (pkg / "noisy.py").write_text("import rich.console\n\ndef f():\n    print('hi')\n")
    (pkg / "fine.py").write_text("from .events import Event\nfrom textwrap import dedent\n")
    found = layering_violations(pkg, "classify_tui.core")
    assert found == ["noisy.py:1: imports rich.console", "noisy.py:4: print()",
                     "bad.py:1: imports classify_tui.tui", "bad.py:1: imports classify_tui.tui.app"]


def test_readme_describes_the_workspace_layout_the_code_documents():
    """One description of datasets/NAME/ (workspace.py's docstring); the README's table must match."""
    import re

    from classify_tui.core import workspace

    layout = workspace.__doc__.split("::", 1)[1]
    code = {re.split(r"\s{2,}", line.strip())[0] for line in layout.strip().splitlines()}
    readme = (CORE.parents[1] / "README.md").read_text()
    table = readme.split("### The workspace", 1)[1].split("###", 1)[0]
    documented = {", ".join(re.findall(r"`([^`]+)`", cell)) for cell in
                  (line.split("|")[1] for line in table.splitlines() if line.startswith("| `"))}
    assert documented == code
