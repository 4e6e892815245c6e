"""Confusion matrix and most-confused pairs in plain Python (rows = actual, cols = predicted)."""

from __future__ import annotations


def confusion(actual: list[int], predicted: list[int], n: int) -> list[list[int]]:
    cm = [[0] * n for _ in range(n)]
    for a, p in zip(actual, predicted):
        cm[a][p] += 1
    return cm


def most_confused(cm: list[list[int]], labels: list[str], min_count: int = 1) -> list[tuple[str, str, int]]:
    """Off-diagonal cells, largest first, as fastai's ClassificationInterpretation reports them."""
    pairs = [
        (labels[i], labels[j], cm[i][j])
        for i in range(len(cm)) for j in range(len(cm)) if i != j and cm[i][j] >= min_count
    ]
    return sorted(pairs, key=lambda t: -t[2])
