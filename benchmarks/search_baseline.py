"""Whoosh search against a plain SQLite FTS5 (bm25) baseline: relevance and latency side by side.

Runs the queries of tests/data/relevance.yaml against ``kb.search.search`` and against an
in-memory FTS5 index of the same documents (same fields, same field weights, no synonyms,
no spelling correction, no priors), then prints recall@5, MRR and p50/p95 latency for both,
and their ratios. The store and the Whoosh index are built in a temporary folder, so the
knowledge base's own build/ is left alone.

    .venv/bin/python benchmarks/search_baseline.py [--root PATH] [--repeat N] [--misses]

``fts5_index``/``fts5_search`` are the baseline, for other benchmarks to reuse; the figures
come from tests/relevance.py, which the tests assert on.
"""

import argparse
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import Engine

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))  # run as a script: tests/ is not installed

from kb import pipeline  # noqa: E402
from kb.search import FIELD_BOOSTS, build_index, index_documents, search  # noqa: E402
from kb.store.current import build_db, current_store  # noqa: E402
from tests.relevance import load_cases, measure  # noqa: E402


def fts5_index(engine: Engine) -> sqlite3.Connection:
    """An in-memory FTS5 table of the same documents the Whoosh index holds."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE documents USING fts5(id UNINDEXED, type UNINDEXED, title, text,"
        " context, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    connection.executemany(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?)",
        [
            (doc["id"], doc["type"], doc.get("title"), doc.get("text"), doc.get("context"))
            for doc in index_documents(engine)
        ],
    )
    return connection


def fts5_search(connection: sqlite3.Connection, query: str, limit: int = 10) -> list[str]:
    """Record IDs ranked by bm25 for any of the query's words, with our field weights."""
    words = re.findall(r"\w+", query)
    if not words:
        return []
    weights = (0, 0, FIELD_BOOSTS["title"], FIELD_BOOSTS["text"], FIELD_BOOSTS["context"])
    rows = connection.execute(
        "SELECT id FROM documents WHERE documents MATCH ? "
        f"ORDER BY bm25(documents, {', '.join(map(str, weights))}) LIMIT ?",
        (" OR ".join(f'"{word}"' for word in words), limit),
    )
    return [record_id for (record_id,) in rows]


def _row(name: str, whoosh: float, fts5: float, digits: int) -> str:
    ratio = f"{whoosh / fts5:.2f}" if fts5 else "-"
    return f"{name:<16}{whoosh:>10.{digits}f}{fts5:>10.{digits}f}{ratio:>14}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="knowledge base folder (default: .)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each query (default: 5)")
    parser.add_argument("--misses", action="store_true", help="list queries not ranked first")
    options = parser.parse_args(argv)
    cases, held_out = load_cases(), load_cases(held_out=True)
    with tempfile.TemporaryDirectory() as folder:
        built = Path(folder)
        paths = pipeline.Paths(Path(options.root).resolve(), built / "kb.sqlite", built / "index")
        build_db(paths)
        engine = current_store(paths)
        started = time.perf_counter()
        counts = build_index(engine, paths.index)
        whoosh_build = time.perf_counter() - started
        started = time.perf_counter()
        connection = fts5_index(engine)
        fts5_build = time.perf_counter() - started

        def whoosh_ranker(query: str) -> list[str]:
            return [result.id for result in search(paths.index, query, limit=10).results]

        whoosh = measure(whoosh_ranker, cases, options.repeat)
        fts5 = measure(lambda query: fts5_search(connection, query), cases, options.repeat)
        whoosh_held = measure(whoosh_ranker, held_out)
        fts5_held = measure(lambda query: fts5_search(connection, query), held_out)
    documents = sum(counts.values())
    print(f"{len(cases)} queries over {documents} documents ({options.repeat} runs each)")
    print(f"{'':<16}{'Whoosh':>10}{'FTS5':>10}{'Whoosh/FTS5':>14}")
    print(_row("recall@5", whoosh["recall_at_5"], fts5["recall_at_5"], 3))
    print(_row("MRR", whoosh["mrr"], fts5["mrr"], 3))
    print(_row("p50 latency ms", whoosh["p50_ms"], fts5["p50_ms"], 2))
    print(_row("p95 latency ms", whoosh["p95_ms"], fts5["p95_ms"], 2))
    print(_row("build s", whoosh_build, fts5_build, 3))
    print(f"\n{len(held_out)} held-out queries (never tuned on)")
    print(_row("recall@5", whoosh_held["recall_at_5"], fts5_held["recall_at_5"], 3))
    print(_row("MRR", whoosh_held["mrr"], fts5_held["mrr"], 3))
    if options.misses:  # of the tuning set only: looking at held-out misses would tune on them
        for name, figures in (("Whoosh", whoosh), ("FTS5", fts5)):
            print(f"\n{name}: {len(figures['misses'])} queries without every expected record")
            for miss in figures["misses"]:
                print(f"  {miss['query']!r}: expected {miss['expect']}, got {miss['got']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
