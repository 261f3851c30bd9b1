"""Whether a difference is real (issue 13): exact McNemar and Welch's t against hand computations and SciPy."""

import math

import numpy as np
import pytest
from scipy import stats

from mnistlab.significance import (Spread, betainc, binomial_two_sided, mcnemar, mcnemar_sentence, t_quantile,
                                   welch, welch_sentence)


def test_mcnemar_counts_the_images_only_one_model_gets_right():
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7])
    a = np.array([0, 1, 2, 3, 9, 9, 9, 7])  # wrong on 4, 5, 6
    b = np.array([0, 1, 9, 9, 4, 9, 6, 9])  # wrong on 2, 3, 5, 7
    test = mcnemar(a, b, labels)
    assert (test.only_a, test.only_b) == (3, 2)  # a alone right on 2, 3, 7; b alone on 4, 6
    assert test.p_value == 1.0  # 3 : 2 is as even as five tosses can be: 2 · (1 + 5 + 10) / 32 = 1


@pytest.mark.parametrize("k, n, by_hand", [(0, 5, 2 / 32), (0, 6, 2 / 64), (1, 6, 2 * 7 / 64), (0, 0, 1.0)])
def test_the_exact_binomial_by_hand(k, n, by_hand):
    assert binomial_two_sided(k, n) == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("k, n", [(17, 46), (0, 1), (5, 40), (120, 300), (400, 1000), (33, 33 + 71)])
def test_the_exact_binomial_equals_scipy(k, n):
    assert binomial_two_sided(k, n) == pytest.approx(stats.binomtest(k, n, 0.5).pvalue, rel=1e-9)


def test_the_issues_example_sentence():
    labels = np.zeros(10_000, int)
    a, b = labels.copy(), labels.copy()
    a[:17], b[17:46] = 1, 1  # CNN 5 right on the 29 images where CNN 4 is wrong, CNN 4 on 17
    test = mcnemar(a, b, labels)
    assert (test.only_a, test.only_b) == (29, 17) and test.p_value == pytest.approx(0.104, abs=5e-4)
    assert mcnemar_sentence("CNN 4", "CNN 5", mcnemar(b, a, labels)) == (
        "No real difference at this test-set size: on the 46 test images where they disagree, CNN 4 is right 17 "
        "times and CNN 5 29 times — a split that luck alone makes often (McNemar's exact test, p = 0.10).")
    a[:100] = 1
    assert mcnemar_sentence("A", "B", mcnemar(a, b, labels)) == (
        "B is better: on the 71 test images where they disagree, A is right 0 times and B 71 times — too lopsided "
        "to be luck (McNemar's exact test, p < 0.001).")


@pytest.mark.parametrize("x, y", [([0.9851, 0.9843, 0.9860], [0.9843, 0.9838, 0.9852]),
                                  ([0.92, 0.921, 0.919, 0.9205], [0.98, 0.985]),
                                  ([0.5, 0.6], [0.55, 0.57, 0.56, 0.58, 0.9])])
def test_welch_equals_scipy(x, y):
    ours = welch(Spread(tuple(x)), Spread(tuple(y)))
    theirs = stats.ttest_ind(x, y, equal_var=False)
    assert ours.t == pytest.approx(theirs.statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-7)


@pytest.mark.parametrize("df", [1, 2, 2.5, 4, 10, 30, 200])
def test_student_t_quantile_and_incomplete_beta_equal_scipy(df):
    assert t_quantile(0.975, df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-9)
    for a, b, x in ((df / 2, 0.5, 0.3), (2.0, 3.0, 0.9), (0.5, 0.5, 0.01)):
        assert betainc(a, b, x) == pytest.approx(stats.beta.cdf(x, a, b), rel=1e-9)


def test_a_group_of_seeds_in_numbers_and_words():
    group = Spread((0.9900, 0.9910, 0.9920))
    assert group.mean == pytest.approx(0.991) and group.std == pytest.approx(0.001)
    low, high = group.interval()
    assert high - group.mean == pytest.approx(4.302653 * 0.001 / math.sqrt(3), rel=1e-6)  # t(0.975, 2) = 4.3027
    assert Spread((0.99,)).interval() is None and Spread((0.99,)).std == 0.0
    other = Spread((0.9800, 0.9805, 0.9810))
    sentence = welch_sentence("CNN 5", "CNN 1", group, other, welch(group, other))
    assert sentence.startswith("CNN 5 is better: CNN 5 99.10% ± 0.10% over 3 seeds, CNN 1 98.05% ± 0.05% over 3 — "
                               "CNN 5 1.05 points higher than CNN 1, more than the seeds' spread explains (Welch's t, p")
    backwards = welch_sentence("CNN 1", "CNN 5", other, group, welch(other, group))
    assert "CNN 5 1.05 points higher than CNN 1" in backwards and "-" not in backwards.split("—")[1]  # no sign puzzle
    with pytest.raises(ValueError, match="at least two runs"):
        welch(group, Spread((0.9,)))
