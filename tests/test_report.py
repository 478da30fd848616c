"""classification_report / confusion_matrix against hand-computed examples."""

import numpy as np
import pytest

from pycnn.metrics.report import classification_report, confusion_matrix

# scikit-learn's documented example, character for character.
SKLEARN_EXAMPLE = """\
              precision    recall  f1-score   support

     class 0       0.50      1.00      0.67         1
     class 1       0.00      0.00      0.00         1
     class 2       1.00      0.67      0.80         3

    accuracy                           0.60         5
   macro avg       0.50      0.56      0.49         5
weighted avg       0.70      0.60      0.61         5
"""


def test_matches_scikit_learn_text():
    report = classification_report([0, 1, 2, 2, 2], [0, 0, 2, 2, 1],
                                   target_names=["class 0", "class 1", "class 2"])
    assert report == SKLEARN_EXAMPLE


def test_hand_computed_binary_with_digits_and_long_names():
    # male: tp 3, fn 1, fp 2 -> P 3/5, R 3/4, F1 2/3; female: tp 2, fn 2, fp 1 -> P 2/3, R 1/2, F1 4/7
    y_true = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    y_pred = np.array([0, 0, 0, 1, 0, 0, 1, 1])
    report = classification_report(y_true, y_pred, target_names=["male", "female (long name)"],
                                   digits=4)
    lines = report.splitlines()
    width = len("female (long name)")
    assert lines[0] == " " * width + " " + "".join(f" {h:>9}" for h in
                                                    ("precision", "recall", "f1-score", "support"))
    assert lines[2] == f"{'male':>{width}}     0.6000    0.7500    0.6667         4"
    assert lines[3] == f"{'female (long name)':>{width}}     0.6667    0.5000    0.5714         4"
    assert lines[5] == f"{'accuracy':>{width}}                         0.6250         8"
    macro = " ".join(f"{v:>9.4f}" for v in ((0.6 + 2 / 3) / 2, (0.75 + 0.5) / 2, (2 / 3 + 4 / 7) / 2))
    assert lines[6] == f"{'macro avg':>{width}}  {macro}         8"
    assert lines[7] == f"{'weighted avg':>{width}}  {macro}         8"


def test_labels_subset_gives_micro_average_and_dict():
    y_true, y_pred = [1, 1, 2, 3], [1, 2, 2, 3]
    report = classification_report(y_true, y_pred, labels=[1, 2])
    assert "   micro avg       0.67      0.67      0.67         3" in report
    d = classification_report(y_true, y_pred, output_dict=True)
    assert d["accuracy"] == 0.75 and d["1"] == {"precision": 1.0, "recall": 0.5,
                                                "f1-score": 2 / 3, "support": 2}
    assert d["macro avg"]["support"] == 4


def test_column_labels_and_errors():
    y = np.array([[0], [1], [1]])
    assert classification_report(y, y).splitlines()[5].endswith("1.00         3")
    with pytest.raises(ValueError, match="argmax"):
        classification_report(np.eye(3), [0, 1, 2])
    with pytest.raises(ValueError, match="Number of classes, 2, does not match size of target_names, 3"):
        classification_report([0, 1], [0, 1], target_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="different lengths: 2 and 3"):
        confusion_matrix([0, 1], [0, 1, 1])


def test_confusion_matrix():
    cm = confusion_matrix([0, 1, 2, 2, 2], [0, 0, 2, 2, 1])
    np.testing.assert_array_equal(cm, [[1, 0, 0], [1, 0, 0], [0, 1, 2]])
    assert cm.dtype == np.int64
    cm = confusion_matrix(["cat", "dog", "dog"], ["dog", "dog", "bird"], labels=["dog", "cat"])
    np.testing.assert_array_equal(cm, [[1, 0], [1, 0]])
    np.testing.assert_allclose(confusion_matrix([0, 0, 1], [0, 1, 1], normalize="true"),
                               [[0.5, 0.5], [0, 1]])
    np.testing.assert_allclose(confusion_matrix([0, 0, 1], [0, 1, 1], normalize="all"),
                               [[1 / 3, 1 / 3], [0, 1 / 3]])
