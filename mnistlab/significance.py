"""Is a difference between two models real? Exact McNemar for two runs, Welch's t for two groups of seeds.

Two runs scored on the same 10,000 test images differ only on the images one gets right and the other
wrong; McNemar's test (Dietterich 1998) asks whether that split is more lopsided than a fair coin would
make it. Two groups of runs (the same network trained with different seeds) are compared by their
accuracies' means with Welch's t-test, which does not assume equal spreads. Both exact here, in the
standard library: the binomial tail is a finite sum, Student's t comes from the regularized incomplete
beta function (Lentz's continued fraction, as in Numerical Recipes §6.4); tests check both against SciPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .i18n import _, decimal, ngettext, number, percent

ALPHA = 0.05  # the level at which a sentence calls a difference real


@dataclass(frozen=True)
class McNemar:
    only_a: int      # images A gets right and B wrong
    only_b: int      # images B gets right and A wrong
    p_value: float   # two-sided, exact

    @property
    def disagreements(self) -> int:
        return self.only_a + self.only_b


def mcnemar(a: np.ndarray, b: np.ndarray, labels: np.ndarray) -> McNemar:
    """McNemar's exact test for two classifiers' predictions on the same labelled images."""
    a, b, labels = (np.asarray(x).reshape(-1) for x in (a, b, labels))
    if not (a.shape == b.shape == labels.shape):
        raise ValueError(f"Predictions and labels must cover the same images ({a.size}, {b.size}, {labels.size}).")
    right_a, right_b = a == labels, b == labels
    only_a, only_b = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    return McNemar(only_a, only_b, binomial_two_sided(min(only_a, only_b), only_a + only_b))


def binomial_two_sided(k: int, n: int) -> float:
    """P(a fair coin's n tosses split at least as unevenly as k : n − k), k ≤ n / 2: twice the lower tail."""
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n  # exact integers, then one division
    return min(1.0, 2 * tail)


def mcnemar_sentence(name_a: str, name_b: str, test: McNemar, alpha: float = ALPHA) -> str:
    """The plain answer first, the test after it, e.g. "MLP 1 is better: on the 271 test images where they disagree,
    MLP 1 is right 193 times and MLP 2 78 times — too lopsided to be luck (McNemar's exact test, p < 0.001)."."""
    if test.disagreements == 0:
        return _("{a} and {b} agree on every test image: there is no difference to test.").format(a=name_a, b=name_b)
    counts = ngettext("on the {n} test image where they disagree, {a} is right {times_a} and {b} {times_b}",
                      "on the {n} test images where they disagree, {a} is right {times_a} and {b} {times_b}",
                      test.disagreements).format(n=number(test.disagreements), a=name_a, b=name_b,
                                                 times_a=_times(test.only_a), times_b=_times(test.only_b))
    statistic = _("(McNemar's exact test, {p})").format(p=_p(test.p_value))
    if test.p_value < alpha:
        better = name_a if test.only_a > test.only_b else name_b
        return _("{better} is better: {counts} — too lopsided to be luck {statistic}.").format(
            better=better, counts=counts, statistic=statistic)
    return _("No real difference at this test-set size: {counts} — a split that luck alone makes often "
             "{statistic}.").format(counts=counts, statistic=statistic)


def _times(count: int) -> str:
    return ngettext("once", "{n} times", count).format(n=number(count))


@dataclass(frozen=True)
class Spread:
    """A group of runs' scores (one per seed): mean, sample standard deviation, range and a 95% interval."""
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if self.n > 1 else 0.0

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def interval(self, confidence: float = 0.95) -> tuple[float, float] | None:
        """Student's t interval for the mean over seeds; None for a single run."""
        if self.n < 2:
            return None
        half = t_quantile(0.5 + confidence / 2, self.n - 1) * self.std / math.sqrt(self.n)
        return self.mean - half, self.mean + half


@dataclass(frozen=True)
class Welch:
    t: float
    df: float
    p_value: float  # two-sided
    difference: float  # mean of A − mean of B


def welch(a: Spread, b: Spread) -> Welch:
    """Welch's t-test on two groups' means; each group needs at least two runs."""
    if a.n < 2 or b.n < 2:
        raise ValueError("Welch's t-test needs at least two runs (seeds) in each group.")
    va, vb = a.std ** 2 / a.n, b.std ** 2 / b.n
    difference = a.mean - b.mean
    if va + vb == 0:  # both groups without spread: equal means are no difference, unequal ones are certain
        return Welch(0.0 if difference == 0 else math.copysign(math.inf, difference), a.n + b.n - 2.0,
                     1.0 if difference == 0 else 0.0, difference)
    t = difference / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1))
    return Welch(t, df, 2 * t_sf(abs(t), df), difference)


def welch_sentence(name_a: str, name_b: str, a: Spread, b: Spread, test: Welch, alpha: float = ALPHA) -> str:
    """The plain answer first, the test after it: which is better (or neither), the means over the seeds, how far
    apart in percentage points said with words (higher, lower), not a sign."""
    points = decimal(abs(test.difference) * 100, 2)
    means = _("{a} {mean_a} ± {std_a} over {n_a} seeds, {b} {mean_b} ± {std_b} over {n_b}").format(
        a=name_a, mean_a=percent(a.mean, 2), std_a=percent(a.std, 2), n_a=a.n,
        b=name_b, mean_b=percent(b.mean, 2), std_b=percent(b.std, 2), n_b=b.n)
    statistic = _("(Welch's t, {p})").format(p=_p(test.p_value))
    if test.p_value < alpha:
        better, worse = (name_a, name_b) if test.difference > 0 else (name_b, name_a)
        return _("{better} is better: {means} — {better} {points} points higher than {worse}, more than the "
                 "seeds' spread explains {statistic}.").format(better=better, means=means, points=points, worse=worse,
                                                               statistic=statistic)
    return _("No real difference with this many seeds: {means} — {points} points apart, within what the seeds' "
             "spread explains {statistic}.").format(means=means, points=points, statistic=statistic)


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with df degrees of freedom, t ≥ 0."""
    if math.isinf(t):
        return 0.0
    return 0.5 * betainc(df / 2, 0.5, df / (df + t * t))


def t_quantile(q: float, df: float) -> float:
    """The t with P(T ≤ t) = q, for q in (0.5, 1): by bisection on t_sf (60 halvings: far below float noise)."""
    low, high = 0.0, 1.0
    while t_sf(high, df) > 1 - q:
        high *= 2
    for _halving in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if t_sf(middle, df) > 1 - q else (low, middle)
    return (low + high) / 2


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):  # the continued fraction converges fast here; else use the symmetry
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float, steps: int = 300, eps: float = 1e-15) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, steps + 1):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < eps:
            break
    return result


def _p(value: float) -> str:
    return "p < " + decimal(0.001, 3) if value < 0.001 else "p = " + decimal(value, 3 if value < 0.01 else 2)
