"""Disproportionality figures of pharmacovigilance (pure): 2×2 table, PRR, ROR, their 95 % CIs, χ² (Yates).

For a product P and a reaction term E, over the reports of a database:

=================  ==========  ==============
                   E reported  E not reported
=================  ==========  ==============
P reported         a           b
other products     c           d
=================  ==========  ==============

* PRR (proportional reporting ratio) = (a / (a + b)) / (c / (c + d)); 95 % CI = exp(ln PRR ± 1.96 ·
  √(1/a − 1/(a+b) + 1/c − 1/(c+d))) (Evans, Waller & Davis, *Pharmacoepidemiol Drug Saf* 2001).
* ROR (reporting odds ratio) = (a · d) / (b · c); 95 % CI = exp(ln ROR ± 1.96 · √(1/a + 1/b + 1/c + 1/d))
  (van Puijenbroek et al., *Pharmacoepidemiol Drug Saf* 2002).
* χ² with Yates' continuity correction = N · max(0, |ad − bc| − N/2)² / ((a+b)(c+d)(a+c)(b+d)).
* The usual signal rule (Evans 2001, used in the EMA guideline on the use of statistical signal
  detection methods in the EudraVigilance system): n = a ≥ 3, PRR ≥ 2 and χ² ≥ 4.

No continuity correction (Haldane) is added to empty cells: a ratio or interval that is undefined is
``None`` and says so rather than inventing a value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95 % interval
SIGNAL_MIN_N = 3
SIGNAL_MIN_PRR = 2.0
SIGNAL_MIN_CHI2 = 4.0


@dataclass(frozen=True, slots=True)
class Table2x2:
    """Counts of reports: ``a`` P and E, ``b`` P without E, ``c`` E with other products, ``d`` neither."""

    a: int
    b: int
    c: int
    d: int

    def __post_init__(self) -> None:
        if min(self.a, self.b, self.c, self.d) < 0:
            raise ValueError(f"negative cell in 2x2 table: {self}")

    @classmethod
    def from_margins(cls, n_pair: int, n_product: int, n_term: int, n_total: int) -> Table2x2:
        """The table from the counts a database gives: reports with P and E, with P, with E, in all."""
        return cls(a=n_pair, b=n_product - n_pair, c=n_term - n_pair, d=n_total - n_product - n_term + n_pair)

    @property
    def n(self) -> int:
        return self.a + self.b + self.c + self.d


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


def prr(t: Table2x2) -> float | None:
    """Proportional reporting ratio; None when a proportion's denominator is 0 or c = 0."""
    if t.a + t.b == 0 or t.c + t.d == 0 or t.c == 0:
        return None
    return (t.a / (t.a + t.b)) / (t.c / (t.c + t.d))


def prr_ci(t: Table2x2, z: float = Z95) -> Interval | None:
    """95 % confidence interval of the PRR (log-normal); None when a or c is 0."""
    value = prr(t)
    if value is None or t.a == 0:
        return None
    se = math.sqrt(1 / t.a - 1 / (t.a + t.b) + 1 / t.c - 1 / (t.c + t.d))
    return Interval(math.exp(math.log(value) - z * se), math.exp(math.log(value) + z * se))


def ror(t: Table2x2) -> float | None:
    """Reporting odds ratio; None when b or c is 0."""
    if t.b == 0 or t.c == 0:
        return None
    return (t.a * t.d) / (t.b * t.c)


def ror_ci(t: Table2x2, z: float = Z95) -> Interval | None:
    """95 % confidence interval of the ROR (Woolf, log-normal); None when a cell is 0."""
    value = ror(t)
    if value is None or t.a == 0 or t.d == 0:
        return None
    se = math.sqrt(1 / t.a + 1 / t.b + 1 / t.c + 1 / t.d)
    return Interval(math.exp(math.log(value) - z * se), math.exp(math.log(value) + z * se))


def chi2_yates(t: Table2x2) -> float | None:
    """Pearson's χ² with Yates' continuity correction (1 degree of freedom); None when a margin is 0."""
    n = t.n
    denominator = (t.a + t.b) * (t.c + t.d) * (t.a + t.c) * (t.b + t.d)
    if denominator == 0:
        return None
    diff = max(0.0, abs(t.a * t.d - t.b * t.c) - n / 2)
    return n * diff * diff / denominator


def is_signal(n: int, prr_value: float | None, chi2: float | None) -> bool:
    """The usual rule: n ≥ 3, PRR ≥ 2 and χ² ≥ 4 (an undefined figure never signals)."""
    return (n >= SIGNAL_MIN_N and prr_value is not None and prr_value >= SIGNAL_MIN_PRR
            and chi2 is not None and chi2 >= SIGNAL_MIN_CHI2)


@dataclass(frozen=True, slots=True)
class Disproportionality:
    """Every figure of one product × term table."""

    table: Table2x2
    prr: float | None
    prr_ci: Interval | None
    ror: float | None
    ror_ci: Interval | None
    chi2: float | None
    signal: bool


def disproportionality(t: Table2x2) -> Disproportionality:
    """All the figures of a table at once."""
    p, c2 = prr(t), chi2_yates(t)
    return Disproportionality(t, p, prr_ci(t), ror(t), ror_ci(t), c2, is_signal(t.a, p, c2))
