"""Disproportionality figures checked against values computed by hand (worked out in the comments)."""

from __future__ import annotations

import pytest

from classifier.disproportionality import (
    Table2x2,
    chi2_yates,
    disproportionality,
    is_signal,
    prr,
    prr_ci,
    ror,
    ror_ci,
)

# a = 10 reports of P with E, b = 90 of P without E, c = 20 of E with other products, d = 880 others.
T = Table2x2(a=10, b=90, c=20, d=880)


def test_table_from_margins() -> None:
    # 10 with P and E; 100 with P; 30 with E; 1,000 reports in all.
    assert Table2x2.from_margins(10, 100, 30, 1000) == T
    assert T.n == 1000
    with pytest.raises(ValueError):
        Table2x2.from_margins(10, 5, 30, 1000)  # more pairs than product reports


def test_prr_and_ci_by_hand() -> None:
    # PRR = (10/100) / (20/900) = 0.1 / 0.0222… = 4.5
    assert prr(T) == pytest.approx(4.5)
    # se = sqrt(1/10 - 1/100 + 1/20 - 1/900) = sqrt(0.138889) = 0.372678; 1.96 se = 0.730449; e^0.730449 = 2.07607
    ci = prr_ci(T, z=1.96)
    assert ci is not None
    assert ci.low == pytest.approx(4.5 / 2.07607, rel=1e-4)  # 2.16756
    assert ci.high == pytest.approx(4.5 * 2.07607, rel=1e-4)  # 9.34232


def test_ror_and_ci_by_hand() -> None:
    # ROR = (10 x 880) / (90 x 20) = 8800 / 1800 = 4.8889
    assert ror(T) == pytest.approx(44 / 9)
    # se = sqrt(1/10 + 1/90 + 1/20 + 1/880) = sqrt(0.162247) = 0.402799; 1.96 se = 0.789486; e^… = 2.20224
    ci = ror_ci(T, z=1.96)
    assert ci is not None
    assert ci.low == pytest.approx((44 / 9) / 2.20224, rel=1e-4)  # 2.21998
    assert ci.high == pytest.approx((44 / 9) * 2.20224, rel=1e-4)  # 10.7665


def test_chi2_yates_by_hand() -> None:
    # N = 1000; |ad - bc| = 8800 - 1800 = 7000; minus N/2 → 6500; 6500² x 1000 = 4.225e10
    # margins 100 x 900 x 30 x 970 = 2.619e9 → χ² = 16.1321
    assert chi2_yates(T) == pytest.approx(4.225e10 / 2.619e9)
    # a table with no association: |ad - bc| = 0 < N/2, the correction floors at 0
    assert chi2_yates(Table2x2(5, 5, 5, 5)) == 0.0


def test_chi2_matches_scipy_when_available() -> None:
    stats = pytest.importorskip("scipy.stats")
    for t in (T, Table2x2(3, 7, 40, 950), Table2x2(1, 200, 300, 5000)):
        expected = stats.chi2_contingency([[t.a, t.b], [t.c, t.d]], correction=True)[0]
        assert chi2_yates(t) == pytest.approx(expected)


def test_undefined_figures_are_none() -> None:
    no_c = Table2x2(a=4, b=10, c=0, d=100)
    assert prr(no_c) is None and ror(no_c) is None and prr_ci(no_c) is None and ror_ci(no_c) is None
    no_a = Table2x2(a=0, b=10, c=5, d=100)
    assert prr(no_a) == 0.0 and prr_ci(no_a) is None and ror_ci(no_a) is None
    assert chi2_yates(Table2x2(0, 0, 5, 100)) is None  # product never reported: margin 0


def test_signal_rule() -> None:
    assert is_signal(3, 2.0, 4.0)
    assert not is_signal(2, 10.0, 50.0)  # fewer than 3 reports
    assert not is_signal(10, 1.9, 50.0)
    assert not is_signal(10, 3.0, 3.9)
    assert not is_signal(10, None, 50.0)
    figures = disproportionality(T)
    assert figures.signal and figures.table == T
    # Table2x2(3, 7, 40, 950): PRR = 0.3 / (40/990) = 7.425, χ² (Yates) = 10.52 → signal
    small = disproportionality(Table2x2(3, 7, 40, 950))
    assert small.prr == pytest.approx(7.425) and small.signal
