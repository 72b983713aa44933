"""Order the two columns of a two-column drawing so that fewer of its lines cross.

In: the lines, as (left node, right node) pairs (a pair repeats when two lines join the same
two nodes), and each column's starting order. Out: an order for each column with no more
crossings than the starting order, and always the same order for the same input. Nothing
here knows about SVG or records; ``kb.render.network`` draws what this orders.

The method is the one layered-graph drawing has used since Sugiyama, Tagawa and Toda (1981):
a few sweeps of the barycentre heuristic (each node moves to the mean position of its
neighbours in the other column, one column and then the other), keeping the best order seen,
then swapping neighbours within a column for as long as a swap removes crossings.
"""

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import TypeVar

SWEEPS = 8  # barycentre sweeps (one column, then the other); the order settles within a few
MOST_EXCHANGE_ROUNDS = 50  # each round removes at least one crossing, so this is a backstop

Node = TypeVar("Node", bound=Hashable)
Edge = tuple[Hashable, Hashable]


def crossings(edges: Sequence[Edge], left: Sequence[Hashable], right: Sequence[Hashable]) -> int:
    """How many pairs of lines cross when the columns stand in these orders.

    Two lines cross when their ends are in opposite orders in the two columns; lines that
    share an end do not. Counted as inversions, with a Fenwick tree: O(E log E).
    """
    left_at = {node: index for index, node in enumerate(left)}
    right_at = {node: index for index, node in enumerate(right)}
    ends = sorted((left_at[a], right_at[b]) for a, b in edges)
    tree = [0] * (len(right) + 1)
    count = 0
    for seen, (_, position) in enumerate(ends):
        at_most = 0  # earlier lines whose right end is at or above this one's
        index = position + 1
        while index > 0:
            at_most += tree[index]
            index -= index & -index
        count += seen - at_most
        index = position + 1
        while index <= len(right):
            tree[index] += 1
            index += index & -index
    return count


def _neighbours(
    edges: Sequence[tuple[Node, Node]],
) -> tuple[dict[Node, list[Node]], dict[Node, list[Node]]]:
    of_left: dict[Node, list[Node]] = defaultdict(list)
    of_right: dict[Node, list[Node]] = defaultdict(list)
    for a, b in edges:
        of_left[a].append(b)
        of_right[b].append(a)
    return of_left, of_right


def _by_barycentre(
    column: list[Node], neighbours: dict[Node, list[Node]], other: list[Node]
) -> list[Node]:
    """``column`` sorted by the mean position of each node's neighbours in ``other``.

    Ties, and nodes without neighbours, keep their current place, so the result is
    determined by the input.
    """
    other_at = {node: index for index, node in enumerate(other)}
    current = {node: index for index, node in enumerate(column)}

    def key(node: Node) -> tuple[float, int]:
        positions = [other_at[neighbour] for neighbour in neighbours[node]]
        mean = sum(positions) / len(positions) if positions else float(current[node])
        return mean, current[node]

    return sorted(column, key=key)


def _pair_crossings(first: list[int], second: list[int]) -> int:
    """Crossings between the lines of two nodes of one column, ``first`` standing above
    ``second``, given the positions of their neighbours in the other column."""
    return sum(1 for a in first for b in second if a > b)


def _exchange(column: list[Node], neighbours: dict[Node, list[Node]], other: list[Node]) -> bool:
    """Swap neighbouring nodes of ``column`` wherever that removes crossings; True if any."""
    other_at = {node: index for index, node in enumerate(other)}
    swapped = False
    for index in range(len(column) - 1):
        upper, lower = column[index], column[index + 1]
        above = [other_at[node] for node in neighbours[upper]]
        below = [other_at[node] for node in neighbours[lower]]
        if _pair_crossings(below, above) < _pair_crossings(above, below):
            column[index], column[index + 1] = lower, upper
            swapped = True
    return swapped


def _improved(
    edges: Sequence[tuple[Node, Node]], left: list[Node], right: list[Node], right_first: bool
) -> tuple[int, list[Node], list[Node]]:
    """Barycentre sweeps from the starting orders, then exchanges: (crossings, left, right).

    ``right_first`` says which column the sweeps move first; neither is better every time.
    """
    of_left, of_right = _neighbours(edges)
    best = (crossings(edges, left, right), left, right)
    seen = {(tuple(left), tuple(right))}
    for _ in range(SWEEPS):
        for move_right in (right_first, not right_first):
            if move_right:
                right = _by_barycentre(right, of_right, left)
            else:
                left = _by_barycentre(left, of_left, right)
            if (found := crossings(edges, left, right)) < best[0]:
                best = (found, left, right)
        if (tuple(left), tuple(right)) in seen:  # the sweeps have settled
            break
        seen.add((tuple(left), tuple(right)))
    _, left, right = best
    left, right = list(left), list(right)
    for _ in range(MOST_EXCHANGE_ROUNDS):
        changed = _exchange(right, of_right, left)
        changed = _exchange(left, of_left, right) or changed
        if not changed:
            break
    return crossings(edges, left, right), left, right


def order_columns(
    edges: Sequence[tuple[Node, Node]], left: Sequence[Node], right: Sequence[Node]
) -> tuple[list[Node], list[Node]]:
    """Orders of the two columns with no more crossings than ``left`` and ``right`` have.

    The better of two runs, one moving the right column first and one the left (the first
    on a tie); each keeps the best order it sees, so neither can end worse than it began.
    """
    runs = [_improved(edges, list(left), list(right), right_first) for right_first in (True, False)]
    _, left_order, right_order = min(runs, key=lambda run: run[0])
    return left_order, right_order
