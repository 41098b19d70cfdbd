"""The period-to-period change test: values worked out by hand and from R."""

import math

import pytest

from scoring.compare import difference_test


def test_difference_of_independent_estimates_is_a_z_test_by_hand() -> None:
    # d = 0.85 - 0.80 = 0.05; se = sqrt(0.01^2 + 0.02^2) = 0.0223607; z = 2.236068;
    # p = 2 * (1 - pnorm(2.236068)) = 0.0253473 (R).
    d = difference_test(0.85, 0.01, 0.80, 0.02)
    assert d.difference == pytest.approx(0.05)
    assert d.se == pytest.approx(math.sqrt(0.0005))
    assert d.statistic == pytest.approx(2.236068, abs=1e-6)
    assert d.p_value == pytest.approx(0.0253473, abs=1e-7)
    assert d.significant(0.05) and not d.significant(0.01)


def test_welch_satterthwaite_degrees_of_freedom_give_a_t_test() -> None:
    # df = 0.0005^2 / (0.01^4/40 + 0.02^4/50) = 72.463768; 2 * pt(-2.236068, 72.463768) = 0.02843
    d = difference_test(0.85, 0.01, 0.80, 0.02, df1=40, df2=50)
    assert d.df == pytest.approx(72.463768, abs=1e-6)
    assert d.p_value == pytest.approx(0.028427, abs=1e-6)


def test_zero_or_missing_standard_errors_give_no_p_value() -> None:
    assert math.isnan(difference_test(0.9, 0.0, 0.8, 0.0).p_value)
    assert math.isnan(difference_test(0.9, math.nan, 0.8, 0.01).p_value)
    assert not difference_test(0.9, math.nan, 0.8, 0.01).significant()
