"""Customer value: ABC classification by revenue share (the 80/20 rule)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.enums import Tier

__all__ = ["A_SHARE", "B_SHARE", "TIER_VISIT_FREQUENCY_DAYS", "abc_tiers", "visit_frequency_days"]

# Customers that together make the first 80 % of revenue are A, the next 15 % B,
# the long tail C.
A_SHARE = 0.80
B_SHARE = 0.95


def abc_tiers(revenues: Sequence[float], a_share: float = A_SHARE, b_share: float = B_SHARE) -> list[Tier]:
    """Tier per customer, in input order. Customers with no revenue are C.

    A customer is A when the revenue of the customers ranked above it is still
    below `a_share` of the total, so the customer that crosses the line is A too.
    Ties are broken by input position, so the result is deterministic.
    """
    if not 0 < a_share <= b_share <= 1:
        raise ValueError("shares must satisfy 0 < a_share <= b_share <= 1")
    order = sorted(range(len(revenues)), key=lambda i: (-revenues[i], i))
    total = sum(r for r in revenues if r > 0)
    tiers = [Tier.C] * len(revenues)
    if total <= 0:
        return tiers
    running = 0.0
    for i in order:
        if revenues[i] <= 0:
            break
        share_before = running / total
        tiers[i] = Tier.A if share_before < a_share else Tier.B if share_before < b_share else Tier.C
        running += revenues[i]
    return tiers


# How often a customer of each tier is visited unless the customer says otherwise:
# the most valuable every two weeks, the long tail every eight.
TIER_VISIT_FREQUENCY_DAYS: dict[Tier, int] = {Tier.A: 14, Tier.B: 28, Tier.C: 56}


def visit_frequency_days(tier: Tier | str, override: int | None = None) -> int:
    """Days between visits: the customer's own frequency, else its tier's."""
    return override if override else TIER_VISIT_FREQUENCY_DAYS[Tier(tier)]
