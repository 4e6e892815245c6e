"""Gradio image classifier for a classify-tui export, for a Hugging Face Space.

Plain timm: the weights load from model.safetensors through timm's own ``local-dir:`` loader,
with the transform timm derives from config.json (squash resize, mean/std). No pickle, and no
classify-tui import, so it runs on a bare Space with only requirements.txt installed.
Locally: ``pip install -r requirements.txt gradio && python app.py``.
"""

import json
from pathlib import Path

import gradio as gr
import timm
import timm.data
import torch

TITLE = "classifier"  # replaced by classify-tui space
HERE = Path(__file__).resolve().parent

model = timm.create_model(f"local-dir:{HERE}", pretrained=True).eval()
transform = timm.data.create_transform(**timm.data.resolve_data_config({}, model=model))
labels = json.loads((HERE / "config.json").read_text())["label_names"]


def classify(image):
    """PIL image -> {label: probability}, every label."""
    if image is None:
        return {}
    with torch.inference_mode():
        probs = model(transform(image.convert("RGB"))[None]).softmax(-1)[0].tolist()
    return dict(zip(labels, probs))


examples = sorted(str(p) for p in (HERE / "examples").glob("*") if p.is_file())
demo = gr.Interface(
    fn=classify,
    inputs=gr.Image(type="pil", label="image"),
    outputs=gr.Label(num_top_classes=min(len(labels), 10), label="prediction"),
    title=TITLE,
    description=f"{len(labels)} labels: {', '.join(labels)}. Fine-tuned with classify-tui; plain timm, safetensors.",
    examples=examples or None,
    cache_examples=False,
    flagging_mode="never",
    api_name="predict",
)

if __name__ == "__main__":
    demo.launch()  # Spaces (and tests) set GRADIO_SERVER_NAME / GRADIO_SERVER_PORT
