"""The evidence network drawing: few crossings.

Crossings are counted and the columns ordered by ``kb.render.bipartite``, checked against a
count pair by pair and on seeded random networks.
"""

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kb.render.bipartite import crossings, order_columns

# --- Counting crossings ---------------------------------------------------------------------


def _crossings_pair_by_pair(edges: list[tuple[Any, Any]], left: list[Any], right: list[Any]) -> int:
    left_at = {node: index for index, node in enumerate(left)}
    right_at = {node: index for index, node in enumerate(right)}
    return sum(
        1
        for index, (a, b) in enumerate(edges)
        for c, d in edges[index + 1 :]
        if (left_at[a] - left_at[c]) * (right_at[b] - right_at[d]) < 0
    )


def test_crossings_are_lines_whose_ends_stand_in_opposite_orders() -> None:
    assert crossings([("a", 1), ("b", 0)], ["a", "b"], [0, 1]) == 1
    assert crossings([("a", 1), ("b", 0)], ["b", "a"], [0, 1]) == 0
    assert crossings([("a", 0), ("b", 0), ("a", 1)], ["a", "b"], [0, 1]) == 1  # a shared end
    assert crossings([("a", 1), ("a", 1), ("b", 0)], ["a", "b"], [0, 1]) == 2  # each of two


@st.composite
def _bipartite(draw: st.DrawFn) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Lines between two columns of 1 to 12 nodes (repeats allowed), and starting orders."""
    left = draw(st.permutations(range(draw(st.integers(1, 12)))))
    right = draw(st.permutations(range(100, 100 + draw(st.integers(1, 12)))))
    edges = draw(
        st.lists(st.tuples(st.sampled_from(left), st.sampled_from(right)), min_size=1, max_size=40)
    )
    return edges, list(left), list(right)


@settings(max_examples=300, deadline=None)
@given(_bipartite())
def test_crossings_agree_with_a_count_pair_by_pair(graph: Any) -> None:
    edges, left, right = graph
    assert crossings(edges, left, right) == _crossings_pair_by_pair(edges, left, right)


# --- Ordering the columns -------------------------------------------------------------------


def _assert_a_better_order(edges: list[Any], left: list[Any], right: list[Any]) -> int:
    """Order the columns; check the order is a rearrangement with no more crossings, the same
    every time; return its crossings."""
    new_left, new_right = order_columns(edges, left, right)
    assert sorted(new_left) == sorted(left) and sorted(new_right) == sorted(right)
    assert order_columns(edges, left, right) == (new_left, new_right)
    after = crossings(edges, new_left, new_right)
    assert after <= crossings(edges, left, right)
    return after


@settings(max_examples=200, deadline=None)
@given(_bipartite())
def test_ordering_never_adds_crossings(graph: Any) -> None:
    _assert_a_better_order(*graph)


def test_ordering_untangles_seeded_random_networks() -> None:
    rng = random.Random(42)
    before = after = 0
    for _ in range(40):
        left = [f"rec-{index}" for index in range(rng.randint(2, 20))]
        right = [f"study-{index}" for index in range(rng.randint(2, 60))]
        edges = [(rng.choice(left), rng.choice(right)) for _ in range(rng.randint(1, 120))]
        before += crossings(edges, left, right)
        after += _assert_a_better_order(edges, left, right)
    assert after < before / 2
