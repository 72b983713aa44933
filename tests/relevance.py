"""Search relevance figures: the relevance cases and recall@5, MRR and latency of a ranker.

The cases are tests/data/relevance.yaml. tests/test_search.py and tests/test_site.py assert
on these figures; benchmarks/search_baseline.py and benchmarks/steps.py report them.
"""

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kb.records.load import parse_yaml

RELEVANCE_FILE = Path(__file__).resolve().parent / "data" / "relevance.yaml"
Ranker = Callable[[str], list[str]]


def load_cases(path: Path = RELEVANCE_FILE, held_out: bool = False) -> list[dict[str, Any]]:
    """The relevance cases: each a ``query`` and the record IDs it should ``expect`` first.

    The queries search was tuned on, or with ``held_out`` those marked ``held_out: true``:
    written before a change and never used to tune it, so their figures are reported apart.
    """
    data, _ = parse_yaml(path.read_text(encoding="utf-8"))
    return [
        {"query": case["query"], "expect": list(case["expect"])}
        for case in data
        if bool(case.get("held_out")) == held_out
    ]


def measure(ranker: Ranker, cases: list[dict[str, Any]], repeat: int = 1) -> dict[str, Any]:
    """Recall@5, MRR (over the top 10) and latency percentiles of ``ranker`` on ``cases``."""
    recalls, reciprocal_ranks, timings, misses = [], [], [], []
    for case in cases:
        for _ in range(repeat):
            started = time.perf_counter()
            ranked = ranker(case["query"])
            timings.append((time.perf_counter() - started) * 1000)
        expected = case["expect"]
        found = [record_id for record_id in ranked[:5] if record_id in expected]
        recalls.append(len(set(found)) / len(expected))
        rank = next((n for n, record_id in enumerate(ranked[:10], 1) if record_id in expected), 0)
        reciprocal_ranks.append(1 / rank if rank else 0.0)
        if len(set(found)) < len(expected) or rank != 1:
            misses.append({"query": case["query"], "expect": expected, "got": ranked[:5]})
    timings.sort()
    return {
        "queries": len(cases),
        "recall_at_5": statistics.fmean(recalls),
        "mrr": statistics.fmean(reciprocal_ranks),
        "p50_ms": timings[len(timings) // 2],
        "p95_ms": timings[min(len(timings) - 1, int(len(timings) * 0.95))],
        "misses": misses,
    }
