"""core/drawing.py: strokes become the image the source would have written (digits: scikit-learn's
8x8 encoding rendered by the digits source; MNIST: 20 px box centred by mass in 28; photos:
black on white at the export size), and a drawing is predicted as a PNG file is."""

from __future__ import annotations

import io
import math

import numpy as np
from exportkit import save_untrained
from PIL import Image

from classify_tui.core.drawing import (
    DIGITS,
    DIGITS_INK,
    MNIST,
    MNIST_INK,
    PLAIN,
    digit_pixels,
    drawing_image,
    drawing_png,
    look_for,
    mnist_pixels,
    raster,
)
from classify_tui.core.sources.digits import digit_png

ONE = [[(0.5, 0.2 + 0.6 * i / 20) for i in range(21)]]
ZERO = [[(0.5 + 0.2 * math.sin(2 * math.pi * k / 40), 0.5 - 0.3 * math.cos(2 * math.pi * k / 40)) for k in range(41)]]


def moved(strokes, scale, dx, dy):
    return [[(x * scale + dx, y * scale + dy) for x, y in s] for s in strokes]


def test_digits_encoding_matches_the_data_sets():
    from sklearn.datasets import load_digits

    data = load_digits()
    assert abs(data.data.sum(axis=1).mean() - DIGITS_INK) < 0.1
    for strokes in (ONE, ZERO):
        px = digit_pixels(strokes)
        assert px.shape == (8, 8) and px.min() >= 0 and 12 <= px.max() <= 16 and np.array_equal(px, np.rint(px))
        rows, cols = np.nonzero(px.any(axis=1))[0], np.nonzero(px.any(axis=0))[0]
        assert (rows[0], rows[-1]) == (0, 7)  # height-normalised, as every scikit-learn digit
        assert cols[0] + cols[-1] == 7  # centred by the bounding box
        assert abs(px.sum() - DIGITS_INK) <= 16  # the data set's amount of ink
    one = digit_pixels(ONE)
    assert one[:, 3:5].min() >= 14 and one[:, :2].sum() == 0  # a thick centred bar, like the data's 1s
    zero = digit_pixels(ZERO)
    assert zero[3:5, 3:5].sum() == 0 and zero[3:5, [1, 6]].min() >= 12  # a hole in the middle
    # where and how big it was drawn does not matter (but for rounding at the pen's edge)
    assert np.abs(digit_pixels(moved(ONE, 0.3, 0.05, 0.6)) - one).max() <= 1
    assert np.abs(digit_pixels(moved(ZERO, 0.5, 0.4, 0.1)) - zero).max() <= 1
    assert not digit_pixels([]).any() and not digit_pixels([[]]).any()


def test_digits_image_is_the_sources_own_rendering():
    img = drawing_image(ZERO, DIGITS)
    assert (img.mode, img.size) == ("RGB", (32, 32))
    source = Image.open(io.BytesIO(digit_png(digit_pixels(ZERO).ravel())))
    assert np.array_equal(np.asarray(img), np.asarray(source))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(drawing_png(ZERO, DIGITS)))), np.asarray(img))


def test_mnist_is_white_on_black_in_a_20px_box_centred_by_mass():
    px = mnist_pixels(moved(ZERO, 0.5, 0.0, 0.5)).astype(np.float64)
    assert px.shape == (28, 28) and px[0, 0] == 0 and px.max() == 255
    ys, xs = np.nonzero(px)
    assert ys.max() - ys.min() + 1 <= 21 and xs.max() - xs.min() + 1 <= 21
    yy, xx = np.mgrid[:28, :28]
    assert abs((yy * px).sum() / px.sum() - 13.5) < 0.6 and abs((xx * px).sum() / px.sum() - 13.5) < 0.6
    assert abs(px.sum() / 255 - MNIST_INK) < 0.1 * MNIST_INK
    assert drawing_image(ONE, MNIST).mode == "L"


def test_plain_drawing_and_raster():
    img = np.asarray(drawing_image(ONE, PLAIN, size=48))
    assert img.shape == (48, 48, 3)
    assert (img[0, 0] == 255).all() and (img[24, 24] == 0).all()  # black where drawn, on white
    assert (img[:, :20] == 255).all()  # where it was drawn: not moved or scaled
    mask = raster([[(0.5, 0.5)]], 40)
    assert mask.shape == (40, 40) and mask[20, 20] and mask.sum() in range(6, 16)  # a dab about 3 px wide
    assert raster(ONE, 40)[8:32, 20].all() and not raster(ONE, 40)[:, :15].any()
    assert look_for("digits") is DIGITS and look_for("mnist") is MNIST
    assert look_for("folder:/x") is PLAIN and look_for("ddg") is PLAIN


def test_a_drawing_is_predicted_as_its_png_file_would_be(tmp_path):
    from classify_tui.core.predict import load_exported, predict_paths

    lm = load_exported(save_untrained(tmp_path / "m"))
    png = drawing_png(ZERO, PLAIN, size=48)
    (tmp_path / "z.png").write_bytes(png)
    from_file = predict_paths(lm, [tmp_path / "z.png"])[0]
    buf = io.BytesIO(png)
    buf.name = "drawing.png"
    from_bytes = predict_paths(lm, [buf])[0]
    assert from_bytes.probs == from_file.probs and from_bytes.path == "drawing.png" and not from_bytes.error
    assert predict_paths(lm, [io.BytesIO(b"not an image")])[0].error.startswith("cannot read image")
