from __future__ import annotations

import pytest

from shared.enums import Tier
from shared.value import abc_tiers


def test_classic_pareto_split():
    """Ten customers: two make 80 %, three the next 15 %, the rest 5 %."""
    revenues = [400, 400, 60, 50, 40, 15, 15, 10, 5, 5]
    assert abc_tiers(revenues) == [Tier.A] * 2 + [Tier.B] * 3 + [Tier.C] * 5


def test_order_of_input_is_kept_and_zero_revenue_is_c():
    assert abc_tiers([0, 100, 0]) == [Tier.C, Tier.A, Tier.C]


def test_all_zero_is_all_c():
    assert abc_tiers([0, 0]) == [Tier.C, Tier.C]


def test_customer_crossing_the_line_is_a():
    # 70 % before the second customer: it crosses 80 % and is still A.
    assert abc_tiers([70, 20, 10]) == [Tier.A, Tier.A, Tier.B]


def test_invalid_shares_are_refused():
    with pytest.raises(ValueError, match="shares"):
        abc_tiers([1], a_share=0.9, b_share=0.5)
