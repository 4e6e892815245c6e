"""Export screen keys added with ONNX and the Space: o writes model.onnx, h writes space/."""

from __future__ import annotations

import json

from exportkit import make_workspace
from textual_image.widget import HalfcellImage

from classify_tui.tui.app import create_app


def app_for(tmp_path, name="pets"):
    return create_app(tmp_path / "datasets", tmp_path / "exports", name, image_widget_class=HalfcellImage)


async def test_export_screen_onnx_and_space_keys(tmp_path):
    make_workspace(tmp_path, source="digits", flip=False)
    dest = tmp_path / "exports" / "pets"
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 36)) as pilot:
        await pilot.pause()
        await pilot.press("e")  # opens the Export screen from the workspace's first screen
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "ExportScreen"
        await pilot.press("h")
        await pilot.pause()
        assert not (dest / "space").exists()  # nothing exported yet: a warning, no Space
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert (dest / "model.onnx").is_file()
        cfg = json.loads((dest / "config.json").read_text())
        assert cfg["onnx"]["input"] == "pixel_values" and cfg["classify_tui"]["flip"] is False
        await pilot.press("h")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert (dest / "space" / "app.py").is_file() and list((dest / "space" / "examples").iterdir())
        assert "model.onnx, space/" in str(screen.query_one("#export-status").render())
        before = cfg["onnx"]["safetensors_sha256"]
        await pilot.press("e")  # exporting again keeps model.onnx in step with the weights
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert json.loads((dest / "config.json").read_text())["onnx"]["safetensors_sha256"] == before
