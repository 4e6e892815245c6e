"""The fast review queue: kinds, suggestions, ranking and honesty, on synthetic signals."""

import numpy as np
from PIL import Image, ImageFilter

from classify_tui.core import review
from classify_tui.core.quality import QualityStats, measure, quality_issues
from classify_tui.core.review_rows import ReviewRow, read_review, write_review
from classify_tui.core.scoring import area_under_margin, cross_val_linear_probs, knn_distance
from classify_tui.core.workspace import KEPT, Row

LABELS = ["cat", "dog", "fox"]


def clusters(n_per: int, seed: int = 0, dim: int = 32):
    """Three well separated clusters of embeddings and their labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (3, dim)) * 4
    y = np.repeat(np.arange(3), n_per)
    return centres[y] + rng.normal(0, 1, (len(y), dim)), y


def test_area_under_the_margin_weighs_later_epochs_more_and_skips_unseen_ones():
    """A label the network learnt once past its first epoch (lost early, won late) scores above
    one it won early and then lost; epochs an image was not trained in do not count."""
    nan = np.nan
    margins = np.array([[-3.0, 3.0], [3.0, -3.0], [nan, 2.0], [nan, nan]])
    aum = area_under_margin(margins)
    assert aum[0] == 1.0 and aum[1] == -1.0  # (1 * m1 + 2 * m2) / 3; a plain mean would tie them at 0
    assert aum[2] == 2.0 and np.isnan(aum[3])


def test_cross_val_head_never_sees_the_label_it_scores():
    feats, y = clusters(40)
    noisy = y.copy()
    noisy[5] = 1  # a cat labelled dog
    probs = cross_val_linear_probs(feats, noisy, 3)
    # A head that had seen image 5's label would fit it; the held-out head calls it a cat.
    assert probs[5].argmax() == 0 and probs[5, 1] < 0.2
    assert (probs.argmax(1) == y).mean() > 0.95


def test_knn_distance_finds_the_far_point():
    feats, _ = clusters(30)
    feats = np.vstack([feats, np.full((1, feats.shape[1]), 9.0) * np.sign(np.arange(feats.shape[1]) % 2 - 0.5)])
    d = knn_distance(feats, k=5)
    assert d.argmax() == len(feats) - 1


def items_for(y, flags=None):
    flags = flags or {}
    return [Row(id=str(i), source=f"s{i}", label=LABELS[t], status=KEPT, path=f"images/{LABELS[t]}/{i:03d}.png",
                flags=flags.get(i, "")) for i, t in enumerate(y)]


def test_queue_kinds_suggestions_and_order():
    feats, y = clusters(30, seed=1)
    n = len(y)
    noisy = y.copy()
    noisy[3] = 2  # label issue: a cat labelled fox
    valid_idx = list(range(0, n, 5))
    probs = np.full((n, 3), 0.02)
    probs[np.arange(n), y] = 0.96  # the main model sees the truth
    margins = np.where(np.arange(n)[:, None] % 5 == 0, np.nan, 3.0) * np.ones((n, 2))
    margins[3] = -2.0  # learnt late: low area under the margin
    pretrained = feats.copy()
    pretrained[40] = 50 * np.ones(feats.shape[1])  # off-topic in the pretrained space
    sig = review.fast_signals(noisy, 3, valid_idx, probs, feats, margins, pretrained)
    items = items_for(noisy, {7: "cross-label duplicate:dog", 8: "near duplicate:images/cat/000.png"})
    rows = review.build_queue(items, LABELS, valid_idx, sig)
    by_path = {r.path: r for r in rows}
    flipped = by_path[items[3].path]
    assert flipped.kind == "label" and flipped.suggestion == "relabel:cat" and flipped.suggested_label == "cat"
    assert "looks like 'cat'" in flipped.reasons
    off = by_path[items[40].path]
    assert off.kind == "outlier" and off.suggestion == "delete"  # never a relabel, whatever the head says
    assert by_path[items[7].path].kind == "duplicate" and by_path[items[7].path].suggestion == "delete"
    near = by_path[items[8].path]
    assert near.kind == "duplicate" and near.priority < flipped.priority
    assert {r.path for r in rows[:3]} == {items[3].path, items[40].path, items[7].path}  # the real problems first
    assert [r.priority for r in rows] == sorted((r.priority for r in rows), reverse=True)
    clean = [r for r in rows if r.kind == "ok"]
    assert len(clean) == n - 4 and all(r.suggestion == "keep" for r in clean)
    # an off-topic image whose label the head also rejects is still an outlier: delete, not relabel
    pretrained[3] = -50 * np.ones(feats.shape[1])
    sig = review.fast_signals(noisy, 3, valid_idx, probs, feats, margins, pretrained)
    both = {r.path: r for r in review.build_queue(items, LABELS, valid_idx, sig)}[items[3].path]
    assert both.kind == "outlier" and both.suggestion == "delete" and "looks like 'cat'" in both.reasons
    # validation rows show the main model (the confusion matrix's prediction), training rows the head
    assert all(r.basis == review.BASIS_VALID for r in rows if r.split == "valid")
    assert all(r.basis == review.BASIS_TRAIN for r in rows if r.split == "train")


def test_a_label_only_training_doubts_is_not_sent_to_a_lower_rated_label():
    """Training margins can make a row suspect while the held-out head still favours its label:
    it keeps its rank with the doubt as its reason, but it does not look like another label, so
    it is no label issue, and 'relabel → X' to a class rated lower would be wrong."""
    feats, y = clusters(30, seed=1)
    n = len(y)
    valid_idx = list(range(0, n, 5))
    probs = np.full((n, 3), 0.02)
    probs[np.arange(n), y] = 0.96
    margins = np.where(np.arange(n)[:, None] % 5 == 0, np.nan, 3.0) * np.ones((n, 2))
    margins[6] = -12.0  # its label lost badly in every epoch
    sig = review.fast_signals(y, 3, valid_idx, probs, feats, margins, feats)
    items = items_for(y)
    row = {r.path: r for r in review.build_queue(items, LABELS, valid_idx, sig)}[items[6].path]
    assert row.predicted == row.label and row.p_label > 0.5  # the head still favours the label
    assert row.kind == "ok" and row.priority >= 0.5 and row.suggestion == "keep"
    assert row.reasons.startswith(f"hard to learn as '{row.label}'") and row.hard_to_learn
    assert row.path in [r.path for r in review.build_queue(items, LABELS, valid_idx, sig)[:1]]  # ranked first


def test_a_validation_images_score_outvotes_the_main_models_own_slip():
    """A validation image is ranked by the main model's test-time-augmented view averaged with the
    cross-validated head: one confident slip of the plain view no longer outranks a real flip."""
    feats, y = clusters(30, seed=2)
    n = len(y)
    noisy = y.copy()
    noisy[10] = 1  # a real flip in the validation split: a cat labelled dog
    valid_idx = list(range(0, n, 5))
    probs = np.full((n, 3), 0.02)
    probs[np.arange(n), y] = 0.96
    probs[15] = [0.02, 0.02, 0.96]  # clean cat, the plain view's confident mistake
    tta = probs[valid_idx].copy()
    tta[valid_idx.index(15)] = [0.6, 0.05, 0.35]  # its augmented views mostly see the cat
    margins = np.where(np.arange(n)[:, None] % 5 == 0, np.nan, 3.0) * np.ones((n, 2))
    items = items_for(noisy)
    sig = review.fast_signals(noisy, 3, valid_idx, probs, feats, margins, feats, valid_tta_probs=tta)
    rows = {r.path: r for r in review.build_queue(items, LABELS, valid_idx, sig)}
    flip, slip = rows[items[10].path], rows[items[15].path]
    assert flip.kind == "label" and flip.suggestion == "relabel:cat" and flip.basis == review.BASIS_VALID
    assert slip.kind == "ok" and slip.priority < 0.5 < flip.priority
    assert slip.predicted == "fox"  # the shown prediction is still the confusion matrix's
    # with the plain view in place of the augmented ones the slip is a label suspect
    alone = review.fast_signals(noisy, 3, valid_idx, probs, feats, margins, feats, valid_tta_probs=probs[valid_idx])
    assert {r.path: r for r in review.build_queue(items, LABELS, valid_idx, alone)}[items[15].path].kind == "label"
    assert alone.label_margin[15] < sig.label_margin[15]


def test_review_csv_round_trip(tmp_path):
    rows = [ReviewRow("images/a/1.png", "s", "a", "b", 0.1, 0.9, 2.3, "train", "looks like 'b'", "label",
                      "relabel:b", 0.9, "head")]
    write_review(tmp_path / "review.csv", rows)
    assert read_review(tmp_path / "review.csv") == rows
    text = (tmp_path / "review.csv").read_text().splitlines()[0]
    assert text.startswith("path,source,label,predicted,p_label,p_predicted,loss,split,reasons,kind,suggestion")


def photo(seed: int) -> Image.Image:
    """A random crop of one of scikit-image's real colour photos, with a colour cast."""
    from skimage import data

    rng = np.random.default_rng(seed)
    src = np.asarray([data.astronaut, data.chelsea, data.coffee, data.rocket][seed % 4]())
    h, w = src.shape[:2]
    ch, cw = int(h * rng.uniform(0.6, 1)), int(w * rng.uniform(0.6, 1))
    y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    crop = src[y0:y0 + ch, x0:x0 + cw].astype(np.float32) * rng.uniform(0.8, 1.1, 3)
    return Image.fromarray(crop.clip(0, 255).astype(np.uint8))


def test_quality_kinds_and_clean_images_unflagged():
    imgs = {f"ok{i}": photo(i) for i in range(12)}
    arr = np.asarray(photo(99), dtype=np.float32)
    imgs["dark"] = Image.fromarray((arr * 0.06).astype(np.uint8))
    imgs["light"] = Image.fromarray((255 - (255 - arr) * 0.04).astype(np.uint8))
    imgs["blurry"] = photo(98).filter(ImageFilter.GaussianBlur(10))
    imgs["uniform"] = Image.new("RGB", (400, 300), (120, 90, 60))
    imgs["aspect"] = photo(97).resize((1000, 50))
    stats = [measure(im, *im.size) for im in imgs.values()]
    found = dict(zip(imgs, quality_issues(stats)))
    assert found["dark"][0] == "dark"
    assert found["light"][0] == "overexposed"
    assert found["blurry"][0] == "blurry"
    assert found["uniform"][0] == "low information"
    assert found["aspect"][0] == "odd aspect"
    assert all(not found[f"ok{i}"] for i in range(12))


def test_quality_check_shared_by_most_of_a_dataset_is_not_a_defect():
    dark = QualityStats(dark=0.1, light=0.9, blur=0.5, info=0.5, aspect=1.0, side=64)
    fine = QualityStats(dark=0.9, light=0.9, blur=0.5, info=0.5, aspect=1.0, side=64)
    assert quality_issues([dark] * 8 + [fine] * 2) == [[]] * 10  # night photos: dark is the data
    assert quality_issues([dark] + [fine] * 9)[0] == ["dark"]
    assert QualityStats.from_text(dark.to_text()) == dark


def test_thumbnails_decode_the_prepared_copy(tmp_path):
    from classify_tui.core.prepared import ImageRef, PreparedCache, prepared_copies
    from classify_tui.tui.thumbs import ThumbCache

    big = tmp_path / "images" / "cat" / "big.jpg"
    big.parent.mkdir(parents=True)
    Image.new("RGB", (1600, 1200), (200, 0, 0)).save(big)
    ref = ImageRef(big, "ab" * 32, 1600, 1200)
    cache = PreparedCache(tmp_path / "cache", 224)
    assert cache.needs_copy(ref) and cache.ensure([ref]).made == 1
    assert cache.ensure([ref]).reused == 1  # a second pass decodes nothing at full size
    copy = cache.cached_path(ref)
    assert max(Image.open(copy).size) == 448
    Image.new("RGB", (448, 336), (0, 0, 200)).save(copy)  # tell the copy apart from the original
    thumbs = ThumbCache()
    thumbs.add_copies(prepared_copies(tmp_path, [ref], 224))
    assert thumbs.get(big).getpixel((5, 5))[2] > 150  # decoded from the copy
    copy.unlink()  # deleting the cache loses nothing: the next pass remakes it from the original
    assert cache.ensure([ref]).made == 1 and cache.path_for(ref) == copy
