"""The Hugging Face Space scaffold: files, a real Gradio server queried through gradio_client,
and --push failing offline in one line."""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from exportkit import LABELS, cli_env, make_workspace, run_cli

from classify_tui.cli import main

SERVE_TIMEOUT = 150  # seconds for the app to import gradio/torch/timm and listen (about 10 on 2 cores)


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    root = tmp_path_factory.mktemp("space")
    make_workspace(root)
    base = ["--datasets", str(root / "datasets"), "--exports", str(root / "exports")]
    assert main([*base, "export", "pets"]) == 0
    assert main([*base, "space", "pets", "--examples", "3"]) == 0
    return root, root / "exports" / "pets" / "space"


def test_space_folder_is_self_contained(space):
    root, sp = space
    names = {p.name for p in sp.iterdir()}
    assert {"app.py", "requirements.txt", "README.md", "model.safetensors", "config.json", "examples"} <= names
    assert (sp / "model.safetensors").read_bytes() == (root / "exports/pets/model.safetensors").read_bytes()

    app = (sp / "app.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(app)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"json", "pathlib", "gradio", "timm", "torch"}  # no classify_tui, no pickle
    assert 'create_model(f"local-dir:' in app and "torch.load" not in app and "TITLE = 'pets'" in app

    readme = (sp / "README.md").read_text()
    header = readme.split("---\n")[1]
    meta = dict(line.split(": ", 1) for line in header.strip().splitlines())
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and json.loads(meta["title"]) == "pets"
    assert "Validation error rate" in readme  # the model card follows the header

    from importlib.metadata import version

    reqs = (sp / "requirements.txt").read_text()
    assert f"timm=={version('timm')}" in reqs and f"torch=={version('torch').split('+')[0]}" in reqs

    examples = sorted(p.name for p in (sp / "examples").iterdir())
    assert len(examples) == 3 and {e.split("_", 1)[1].split(".")[0] for e in examples} == set(LABELS)
    valid = {r.split(",")[0] for r in (root / "datasets/pets/review.csv").read_text().splitlines() if ",valid," in r}
    assert all(n.split("_", 1)[1].replace(".png", "") in LABELS for n in examples) and len(valid) == 6
    ex_bytes = {(sp / "examples" / n).read_bytes() for n in examples}
    valid_bytes = {(root / "datasets/pets" / v).read_bytes() for v in valid}
    assert ex_bytes <= valid_bytes  # validation images only


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_generated_space_serves_the_same_predictions_as_predict(space):
    from gradio_client import Client, handle_file

    root, sp = space
    img = root / "datasets/pets/images/fox/img1.png"
    r = run_cli(["predict", "exports/pets", str(img), "--json"], cwd=root)
    assert r.returncode == 0, r.stderr
    want = json.loads(r.stdout)

    port = _free_port()
    env = cli_env(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False",
                  HF_HUB_OFFLINE="1", HF_HOME=str(root / "hf"))
    # app.py must run without classify_tui: make importing it fail inside the server process
    launcher = "import runpy, sys; sys.modules['classify_tui'] = None; runpy.run_path('app.py', run_name='__main__')"
    log = open(root / "space.log", "w")
    proc = subprocess.Popen([sys.executable, "-c", launcher], cwd=sp, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            assert proc.poll() is None, (root / "space.log").read_text()[-2000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the Space app did not listen in time"
                time.sleep(0.3)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        got = client.predict(handle_file(str(img)), api_name="/predict")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
    probs = {c["label"]: c["confidence"] for c in got["confidences"]}
    assert got["label"] == want["label"]
    assert set(probs) == set(LABELS)
    assert max(abs(probs[k] - want["probs"][k]) for k in LABELS) <= 1e-4


def test_push_offline_fails_in_one_line(space):
    root, _ = space
    hf = {"HF_HOME": str(root / "hf")}
    base = ["--datasets", "datasets", "--exports", "exports", "space", "pets"]
    r = run_cli([*base, "--push", "me/pets"], cwd=root, timeout=120, **hf)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "needs a Hugging Face token" in r.stderr

    # with a token, the real huggingface_hub upload runs and meets no network (a closed local port)
    t0 = time.monotonic()
    r = run_cli([*base, "--push", "me/pets"], cwd=root, timeout=120, HF_TOKEN="hf_test_token_not_real",
                HF_ENDPOINT=f"http://127.0.0.1:{_free_port()}", **hf)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("classify-tui: error: could not push to the Space me/pets"), r.stderr
    assert time.monotonic() - t0 < 100

    # and when huggingface_hub is told it is offline, the same single line
    r = run_cli([*base, "--push", "me/pets"], cwd=root, HF_TOKEN="hf_x", HF_HUB_OFFLINE="1", **hf)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "could not push" in r.stderr, r.stderr

    r = run_cli([*base, "--push", "not a repo"], cwd=root, **hf)
    assert r.returncode == 2 and "expected a Space id like user/name" in r.stderr


def test_space_without_an_export_is_one_line(tmp_path, capsys):
    assert main(["--exports", str(tmp_path), "space", "nothing"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run classify-tui export nothing first" in err


def test_space_template_stays_free_of_classify_tui():
    from classify_tui.core.space import TEMPLATE

    assert "classify_tui" not in TEMPLATE.read_text() and os.path.getsize(TEMPLATE) < 4000
