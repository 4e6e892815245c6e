import pytest

from classify_tui.core.errors import UserError
from classify_tui.core.labels import parse_labels, validate_labels


def test_valid_labels_are_stripped():
    assert parse_labels(" bird, kitten ,puppy") == ["bird", "kitten", "puppy"]


@pytest.mark.parametrize(
    "labels,needle",
    [
        (["bird", ""], "empty"),
        (["Bird", "bird"], "duplicate"),
        (["a/b"], "separator"),
        (["a\\b"], "separator"),
        ([".."], "not a valid folder"),
        (["."], "not a valid folder"),
        (["bad\x07bell"], "control"),
        (["tab\there"], "control"),
    ],
)
def test_bad_labels_are_rejected(labels, needle):
    with pytest.raises(UserError, match=needle):
        validate_labels(labels)
