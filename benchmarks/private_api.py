"""What each use of a library's private API buys: the same work with and without it.

    .venv/bin/python benchmarks/private_api.py --root KB [--repeat 3] [--only write|read]

KB is a knowledge base (``python -m benchmarks.synth --studies 10000 OUT`` for the scale the uses
were made for). Each figure is the median of ``--repeat`` runs, the two ways taking turns:

- Whoosh, writing (``SegmentWriterWithCopy``'s field lengths read once per field): a full
  index build, against Whoosh's own per-document reader.
- Whoosh, reading (``block_postings``, and the compact postings copy it falls back from): the
  relevance queries (tests/data/relevance.yaml), against reading each posting through the
  matcher's public methods and without the compact copy.

- python-docx (``_QuickDocument``, ``_text_run``, ``_add_row``, ``_dated_save`` in
  kb/brief/word.py): every theme's Word brief in English, against python-docx's public calls
  (``public_api_only``).

Prints one line per use and its ratio; nothing is asserted (these machines are shared).
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))  # run as a script: benchmarks/ and tests/ are not installed

from kb import pipeline, search  # noqa: E402
from kb.search import postings, whoosh_internals  # noqa: E402
from kb.store.current import current_store  # noqa: E402
from tests.relevance import load_cases  # noqa: E402

Way = Callable[[], None]


@contextmanager
def patched(target: Any, name: str, value: Any) -> Iterator[None]:
    before = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, before)


def compare(name: str, ours: Way, public: Way, repeat: int) -> None:
    timings: dict[str, list[float]] = {"ours": [], "public": []}
    for _ in range(repeat):
        for way, run in (("ours", ours), ("public", public)):
            started = time.perf_counter()
            run()
            timings[way].append(time.perf_counter() - started)
    mine, theirs = statistics.median(timings["ours"]), statistics.median(timings["public"])
    print(f"{name:<44} ours {mine:8.3f} s   public API {theirs:8.3f} s   {theirs / mine:5.2f}×")


def compare_word_briefs(engine: Any, repeat: int) -> None:
    """Every theme's Word brief, in English, both ways."""
    import datetime

    from kb.brief import Edition, Records, make_brief
    from kb.brief import word as word_briefs
    from kb.brief.word import brief_docx
    from kb.site_config import SiteInfo
    from kb.store.export import export_document

    records = Records(export_document(engine))
    edition = Edition(SiteInfo("Benchmark"), None, datetime.date(2026, 12, 4))
    briefs = [
        make_brief(records, statements, edition, theme_id)
        for theme_id in records.theme_order()
        if (statements := records.statements_under(theme_id))
    ]

    def write() -> None:
        for brief in briefs:
            brief_docx(brief)

    def write_public() -> None:
        with word_briefs.public_api_only():
            write()

    compare(f"python-docx: {len(briefs)} theme briefs", write, write_public, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["write", "read", "docx"], help="measure one use")
    options = parser.parse_args(argv)
    paths = pipeline.Paths.for_root(str(options.root))
    engine = current_store(paths)
    if options.only == "docx":
        compare_word_briefs(engine, options.repeat)
        return 0
    work = Path(tempfile.mkdtemp(prefix="kb-private-api-"))
    try:

        def index() -> None:
            search.build_index(engine, work / "index")

        def index_public() -> None:
            reader = whoosh_internals.SegmentWriterWithCopy.per_document_reader
            stock = whoosh_internals.SegmentWriter.per_document_reader
            with patched(whoosh_internals.SegmentWriterWithCopy, "per_document_reader", stock):
                index()
            assert whoosh_internals.SegmentWriterWithCopy.per_document_reader is reader

        if options.only in (None, "write"):
            compare("Whoosh: build the index (field lengths)", index, index_public, options.repeat)
        else:
            index()

        queries = [case["query"] for case in load_cases() + load_cases(held_out=True)]

        def ask() -> None:
            for query in queries:
                search.search(work / "index", query)

        def ask_public() -> None:
            with (
                patched(postings, "block_postings", whoosh_internals.public_postings),
                patched(postings, "_compact_postings", lambda *args: None),
            ):
                ask()

        ask()  # open the index and fill the caches before timing either way
        compare(f"Whoosh: {len(queries)} queries (postings)", ask, ask_public, options.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
