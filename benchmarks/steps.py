"""One measured part of the benchmark, run in its own process by benchmarks/run.py.

    .venv/bin/python benchmarks/steps.py STEP --root KB --work FOLDER

Each prints one JSON object as its last line of output. The parent reads the process's peak
memory with ``os.wait4``.

- ``parse-floor``: read every record file and parse it with LibYAML into plain strings, with no
  line numbers and no checks: the least any loader must do (the floor for ``check``).
- ``build``: build_site.py's own ``main``, as ``python build_site.py --root KB --site SITE``,
  with each step's wall time and peak memory as the build reports the step (the peak-memory
  window is reset after each step through /proc/self/clear_refs).
- ``mkdocs-floor``: ``mkdocs build`` of ``--pages`` one-line pages, out of the navigation, with
  the site's theme and search plugin: what MkDocs costs before our pages add anything.
- ``search``: Whoosh against SQLite FTS5 on the same documents and the same queries, with
  benchmarks/search_baseline.py's functions.
- ``current``: whether the store and search index are up to date with the records.
"""

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))  # run as a script: benchmarks/ and tests/ are not installed

import build_site  # noqa: E402
from kb import pipeline  # noqa: E402
from kb.paths import staging_folder  # noqa: E402
from kb.records.load import record_paths  # noqa: E402
from kb.records.types import PLURALS  # noqa: E402
from kb.store import database as store  # noqa: E402

Step = Callable[[pipeline.Paths, Path, argparse.Namespace], dict[str, Any]]
STEPS: dict[str, Step] = {}


def step(name: str) -> Callable[[Step], Step]:
    def register(function: Step) -> Step:
        STEPS[name] = function
        return function

    return register


class Timer:
    def __enter__(self) -> "Timer":
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def peak_rss_mb() -> float | None:
    """This process's peak resident memory since the last ``reset_peak``, in MB (Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Start a new peak-memory window (Linux 4.0+: write 5 to clear_refs); False if unable."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def site_sizes(site: Path) -> dict[str, int]:
    """The site's bytes, those of its search index (Pagefind's folder, of which a reader
    fetches only the parts a query needs), and the median and largest record page."""
    index = site / "pagefind"
    record_pages = sorted(
        page.stat().st_size
        for folder in PLURALS.values()  # where kb.records.urls puts a record's page
        for page in (site / folder).glob("*/index.html")
    )
    return {
        "site_bytes": sum(path.stat().st_size for path in site.rglob("*") if path.is_file()),
        "search_index_bytes": sum(
            path.stat().st_size for path in index.rglob("*") if path.is_file()
        ),
        "record_page_median_bytes": record_pages[len(record_pages) // 2] if record_pages else 0,
        "record_page_largest_bytes": record_pages[-1] if record_pages else 0,
    }


@step("parse-floor")
def parse_floor(paths: pipeline.Paths, work: Path, options: argparse.Namespace) -> dict[str, Any]:
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    times = []
    for _ in range(options.repeat):  # the fastest run: a floor, not an average
        with Timer() as timer:
            files = 0
            for path in record_paths(paths.root):
                yaml.load(path.read_bytes(), Loader=loader)
                files += 1
        times.append(timer.seconds)
    return {"seconds": min(times), "files": files}


@step("build")
def build(paths: pipeline.Paths, work: Path, options: argparse.Namespace) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    windows = reset_peak()
    report = build_site._report

    def measured(done: pipeline.Step) -> None:
        report(done)
        # The index is built by a worker process of its own, which reports its peak itself.
        worker_peak = re.search(r"peak memory (\d+) MB", done.detail)
        steps.append(
            {
                "name": done.name,
                "seconds": done.seconds,
                "peak_rss_mb": (
                    float(worker_peak.group(1))
                    if worker_peak
                    else peak_rss_mb()
                    if windows
                    else None
                ),
                "detail": done.detail,
            }
        )
        print(json.dumps({"step": steps[-1]}), flush=True)  # read back if the build is cut short
        reset_peak()

    build_site._report = measured  # main() reports each step through this function
    site = work / "site"
    with Timer() as timer:
        languages = ["--english-only"] if options.english_only else []
        build_site.main(
            ["--root", str(paths.root), "--site", str(site), *languages], standalone_mode=False
        )
    return {
        "seconds": timer.seconds,
        "steps": steps,
        "markdown_pages": sum(1 for _ in staging_folder(paths).rglob("*.md")),
        "html_pages": sum(1 for _ in site.rglob("*.html")),
        # Which Pagefind made the search index: 1.6.0 where make installed it, else PyPI's.
        "pagefind_version": json.loads((site / "pagefind" / "pagefind-entry.json").read_text())[
            "version"
        ],
        **site_sizes(site),
    }


@step("mkdocs-floor")
def mkdocs_floor(paths: pipeline.Paths, work: Path, options: argparse.Namespace) -> dict[str, Any]:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    folder = work / "floor"
    shutil.rmtree(folder, ignore_errors=True)
    docs = folder / "docs"
    (docs / "pages").mkdir(parents=True)
    (docs / "index.md").write_text("# Floor\n\nTrivial pages for a timing floor.\n")
    for number in range(options.pages - 1):
        (docs / "pages" / f"p{number:05d}.md").write_text(
            f"# Page {number}\n\nOne line of text on page {number}.\n"
        )
    config = {
        "site_name": "Floor",
        "docs_dir": str(docs),
        "site_dir": str(folder / "site"),
        "theme": {"name": "material", "font": False},
        "plugins": [{"search": {"lang": "en"}}],
        "nav": [{"Home": "index.md"}],
        "not_in_nav": "/pages/",
    }
    (folder / "mkdocs.yml").write_text(yaml.safe_dump(config))
    with Timer() as timer:
        settings = load_config(str(folder / "mkdocs.yml"))
        settings.plugins.on_startup(command="build", dirty=False)
        try:
            mkdocs_build(settings)
        finally:
            settings.plugins.on_shutdown()
    sizes = site_sizes(folder / "site")
    shutil.rmtree(folder)
    return {"seconds": timer.seconds, "pages": options.pages, **sizes}


@step("search")
def search_step(paths: pipeline.Paths, work: Path, options: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.search_baseline import fts5_index, fts5_search
    from kb.search import search
    from tests.relevance import load_cases, measure

    engine = store.open_store(paths.database)
    with Timer() as fts5_build:
        connection = fts5_index(engine)
    cases = load_cases()

    def whoosh(query: str) -> list[str]:
        return [result.id for result in search(paths.index, query, limit=10).results]

    whoosh(cases[0]["query"])  # warm the file cache, as on a server that has run a while
    figures = {
        "whoosh": measure(whoosh, cases, options.repeat),
        "fts5": measure(lambda query: fts5_search(connection, query), cases, options.repeat),
    }
    for measured in figures.values():
        measured["misses"] = len(measured["misses"])
    return {"seconds": fts5_build.seconds, "queries": len(cases), **figures}


@step("current")
def current(paths: pipeline.Paths, work: Path, options: argparse.Namespace) -> dict[str, Any]:
    from kb.search import index_is_current

    return {
        "seconds": 0.0,
        "store": pipeline.store_is_current(paths),
        "index": index_is_current(paths.index, paths.database),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--root", type=Path, required=True, help="knowledge base folder")
    parser.add_argument("--work", type=Path, required=True, help="folder for what steps build")
    parser.add_argument("--pages", type=int, default=100, help="mkdocs-floor: pages to build")
    parser.add_argument(
        "--english-only", action="store_true", help="build: without the Welsh site (cy/)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="search: runs of each query; parse-floor: runs"
    )
    options = parser.parse_args(argv)
    options.work.mkdir(parents=True, exist_ok=True)
    paths = pipeline.Paths.for_root(options.root)
    result = STEPS[options.step](paths, options.work, options)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
