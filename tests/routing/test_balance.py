"""Territory balancing on hand-checkable instances."""

from __future__ import annotations

import pytest

from routing.balance import BalanceCustomer, BalanceRep, balance


def customers_at(rep: str, lat: float, lon: float, count: int, start: int = 0) -> list[BalanceCustomer]:
    """`count` identical customers (4 visits a month, 30 min) within a few hundred metres of a point."""
    return [
        BalanceCustomer(f"c{start + k}", lat + 0.001 * k, lon, visits_per_month=4, current_rep=rep)
        for k in range(count)
    ]


def test_an_overloaded_rep_hands_the_nearest_customers_to_the_idle_one():
    """West has 8 customers, East 2 (same kind): balanced within 10 % means 5 and 5, and the
    customers that move are the ones on West's side nearest East."""
    west, east = BalanceRep("west", 45.75, 4.80), BalanceRep("east", 45.75, 4.90)
    customers = customers_at("west", 45.75, 4.84, 8) + customers_at("east", 45.75, 4.90, 2, start=8)
    result = balance(customers, [west, east], tolerance=0.10, time_limit=5)
    assert result.within_tolerance, result
    counts = {rep: sum(1 for r in result.assignment.values() if r == rep) for rep in ("west", "east")}
    assert counts["east"] >= 4  # travel from East's anchor is longer, so East takes a little less than half
    assert result.workload_before_h["west"] > 2 * result.workload_before_h["east"]
    assert abs(result.workload_after_h["west"] / result.mean_after_h - 1) <= 0.10
    assert set(result.moved) <= {c.id for c in customers if c.current_rep == "west"}


def test_a_balanced_territory_stays_as_it_is():
    reps = [BalanceRep("a", 45.75, 4.80), BalanceRep("b", 45.75, 4.90)]
    customers = customers_at("a", 45.75, 4.80, 3) + customers_at("b", 45.75, 4.90, 3, start=3)
    result = balance(customers, reps, time_limit=5)
    assert result.moved == [] and result.within_tolerance


def test_an_impossible_target_gives_the_closest_proposal_and_says_so():
    """One huge customer cannot be split: the result is not within tolerance, but it is an answer."""
    reps = [BalanceRep("a", 45.75, 4.80), BalanceRep("b", 45.75, 4.81)]
    customers = [
        BalanceCustomer("big", 45.75, 4.80, visits_per_month=30, current_rep="a"),
        BalanceCustomer("small", 45.75, 4.81, visits_per_month=1, current_rep="b"),
    ]
    result = balance(customers, reps, tolerance=0.05, time_limit=5)
    assert not result.within_tolerance
    assert set(result.assignment) == {"big", "small"}


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="not among the reps"):
        balance([BalanceCustomer("c", 45.0, 4.0, 1, current_rep="ghost")], [BalanceRep("a", 45.0, 4.0)])
    with pytest.raises(ValueError, match="tolerance"):
        balance([], [BalanceRep("a", 45.0, 4.0)], tolerance=0)
