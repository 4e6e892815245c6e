"""The data half of the loop through the real pipeline and CLI (no training here)."""

import csv
import json

import pytest
from conftest import jpeg_bytes, png_bytes

from classify_tui.cli import main
from classify_tui.core.errors import UserError
from classify_tui.core.pipeline import BuildOptions, build
from classify_tui.core.workspace import Recipe, Workspace


def manifest(ws_root):
    with open(ws_root / "manifest.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_digits_stop_after_verify_matches_contract(tmp_path, capsys):
    rc = main(["--datasets", str(tmp_path), "build", "--source", "digits", "--labels", "0,1",
               "--stop-after", "verify", "--plain"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "kept" in out
    root = tmp_path / "digits"
    rows = manifest(root)
    assert len(rows) > 300 and all(r["label"] in ("0", "1") for r in rows)
    kept = [r for r in rows if r["status"] == "kept"]
    assert kept and all((root / r["path"]).is_file() for r in kept)
    assert {p.name for p in (root / "images").iterdir()} == {"0", "1"}
    assert (root / "journal.jsonl").read_text().count('"stage_done"') == 3
    recipe = json.loads((root / "recipe.json").read_text())
    assert recipe["labels"] == ["0", "1"] and recipe["source"] == "digits"
    # A re-run resumes: nothing new is fetched, nothing changes.
    assert main(["--datasets", str(tmp_path), "build", "--name", "digits", "--stop-after", "verify", "--plain"]) == 0
    assert manifest(root) == rows
    report = json.loads((root / "report.json").read_text())
    assert report["counts"]["download"]["downloaded"] == 0


def test_resume_after_interrupted_download(tmp_path):
    ws = Workspace(tmp_path / "d")
    recipe = Recipe(labels=["3"], source="digits")
    build(ws, recipe, opts=BuildOptions(stop_after="search"))
    rows = ws.load_manifest()
    assert rows and all(r.status == "candidate" for r in rows.values())
    # Simulate a crash: one file fully renamed into incoming/ but the manifest never saved,
    # and one stale partial.
    first = next(iter(rows.values()))
    ws.incoming.mkdir(exist_ok=True)
    (ws.incoming / first.id).write_bytes(png_bytes(size=(32, 32)))
    (ws.incoming / "junk.part").write_bytes(b"half")
    build(ws, Recipe(labels=["3"], source="digits"), opts=BuildOptions(stop_after="verify"))
    rows = ws.load_manifest()
    assert all(r.status in ("kept", "duplicate") for r in rows.values())
    assert not list(ws.incoming.iterdir())


class FakeDDGS:
    def __init__(self, base):
        self.base = base

    def images(self, query, max_results=10, page=1, **kw):
        if page > 1:
            return []
        label = query.split()[0]
        return [
            {"image": f"{self.base}/{label}.png"},
            {"image": "http://10.1.2.3/x.jpg"},
            {"image": "ftp://example.invalid/y.jpg"},
        ]


def test_ddg_results_on_private_hosts_are_rejected_rows(tmp_path, http_server):
    base, routes = http_server
    routes["/cat.png"] = ("image/png", png_bytes())
    ws = Workspace(tmp_path / "pets")
    recipe = Recipe(labels=["cat"], source="ddg", per_label=3, queries=["{label} photo"])
    build(ws, recipe, opts=BuildOptions(stop_after="verify", ddgs_factory=lambda: FakeDDGS(base),
                                        sleep=lambda s: None))
    rows = {r["source"]: r for r in manifest(ws.root)}
    assert len(rows) == 3
    assert all(r["query"] == "cat photo" for r in rows.values())
    assert all(r["status"] == "rejected" and r["reason"] for r in rows.values())
    assert "non-public" in rows[f"{base}/cat.png"]["reason"]  # loopback refused for search results
    assert "10.1.2.3" in rows["http://10.1.2.3/x.jpg"]["reason"]
    assert "not http" in rows["ftp://example.invalid/y.jpg"]["reason"]


def test_urls_source_allows_loopback(tmp_path, http_server):
    base, routes = http_server
    routes.update({"/a.png": ("image/png", png_bytes()), "/b.jpg": ("image/jpeg", jpeg_bytes()),
                   "/c": ("text/html", b"<html>nope</html>")})
    src = tmp_path / "list.csv"
    src.write_text(f"label,url\ncat,{base}/a.png\ndog,{base}/b.jpg\ndog,{base}/c\n")
    rc = main(["--datasets", str(tmp_path / "ds"), "build", "--source", f"urls:{src}", "--stop-after", "verify", "--plain"])
    assert rc == 0
    rows = {r["source"].rsplit("/", 1)[1]: r for r in manifest(tmp_path / "ds" / "list")}
    assert rows["a.png"]["status"] == "kept" and rows["b.jpg"]["status"] == "kept"
    assert rows["c"]["status"] == "rejected" and "html" in rows["c"]["reason"]


def test_folder_source_copies_and_never_modifies(tmp_path):
    src = tmp_path / "src"
    (src / "red").mkdir(parents=True)
    (src / "blue").mkdir()
    (src / "red" / "r.png").write_bytes(png_bytes((255, 0, 0)))
    (src / "blue" / "b.dat").write_bytes(jpeg_bytes((0, 0, 255)))  # detected by content
    (src / "blue" / "notes.jpg").write_bytes(b"hello, not an image")
    before = sorted((p, p.read_bytes()) for p in src.rglob("*") if p.is_file())
    ws = Workspace(tmp_path / "ws")
    build(ws, Recipe(labels=["red", "blue"], source=f"folder:{src}"), opts=BuildOptions(stop_after="verify"))
    after = sorted((p, p.read_bytes()) for p in src.rglob("*") if p.is_file())
    assert before == after
    rows = {r["source"].rsplit("/", 1)[1]: r for r in manifest(ws.root)}
    assert rows["r.png"]["status"] == "kept" and rows["b.dat"]["status"] == "kept"
    assert rows["notes.jpg"]["status"] == "rejected"


def test_expected_failures_are_one_line_errors(tmp_path, capsys):
    assert main(["--datasets", str(tmp_path), "build", "--labels", "a,A"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("classify-tui: error:") and err.count("\n") == 1 and "Traceback" not in err
    assert main(["--datasets", str(tmp_path), "build", "--source", "ddg"]) == 2
    assert "--labels is required" in capsys.readouterr().err
    assert main(["--datasets", str(tmp_path), "build", "--source", "folder:/nonexistent"]) == 2
    assert main(["--datasets", str(tmp_path), "undo", "nope"]) == 2
    with pytest.raises(UserError):
        build(Workspace(tmp_path / "x"), Recipe(labels=["a"], source="bogus"))


def test_mnist_offline_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    import fastai.data.external as external

    def offline(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(external, "untar_data", offline)
    rc = main(["--datasets", str(tmp_path / "datasets"), "build", "--source", "mnist", "--stop-after", "search"])
    err = capsys.readouterr().err
    assert rc == 2 and "could not download MNIST" in err and "--source digits" in err
    assert "Traceback" not in err
    assert [ln for ln in err.splitlines() if ln.startswith("classify-tui:")] == [
        "classify-tui: error: could not download MNIST (OSError); offline? use --source digits instead"]
