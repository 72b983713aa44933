"""Time the built site's search box in headless Chromium, as a reader meets it.

    .venv/bin/python benchmarks/browser.py SITE [--query TEXT ...]

Serves SITE over HTTP (Material's search runs in a web worker, which file:// does not allow),
opens its home page in Debian's Chromium through Playwright, and prints one JSON object:

- ``ready_ms``: from the page's load event until the search worker has its index (the results
  pane stops saying "Initializing search");
- ``first_ms``: from typing the first query into the search box until the first result shows;
- ``repeat_ms``: the same for further queries (the median), once the worker is warm;
- ``query_bytes``: what the browser fetched for search from loading the page until the first
  query's results were shown: the worker, Pagefind's library, its WebAssembly, the index
  chunks and the fragments of the results shown, headers included, as a static host sends
  them: text (JavaScript, JSON, CSS, HTML) gzipped on the way, as GitHub Pages, Netlify and
  Cloudflare do, and Pagefind's index files as they are, compressed already;
- ``query_bytes_uncompressed``: the same files from a host that compresses nothing.

Times are taken inside the page (``performance.now()``), so the driver's round trips are not
counted.
"""

import argparse
import functools
import gzip
import json
import statistics
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from tests.chromium import ARGS, CHROMIUM

QUERIES = ("ethnicity data", "recruitment", "mental health", "cultural competence training")

# Resolves with the milliseconds from a keyup carrying ``query`` to the first result item.
_TYPE_AND_WAIT = """
async (query) => {
  const input = document.querySelector(".md-search__input");
  const list = document.querySelector(".md-search-result__list");
  input.focus();
  return await new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (list.querySelector(".md-search-result__item")) {
        observer.disconnect();
        resolve(performance.now() - started);
      }
    });
    observer.observe(list, { childList: true, subtree: true });
    input.value = query;
    const started = performance.now();
    input.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true, key: query.slice(-1) }));
  });
}
"""
_CLEAR = """
async () => {
  const input = document.querySelector(".md-search__input");
  const list = document.querySelector(".md-search-result__list");
  input.value = "";
  input.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true, key: "Backspace" }));
  while (list.querySelector(".md-search-result__item")) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
"""
_READY = """
() => {
  const meta = document.querySelector(".md-search-result__meta");
  if (!meta || meta.textContent.trim() === "" || /Initiali[sz]ing/i.test(meta.textContent)) {
    return false;
  }
  const [navigation] = performance.getEntriesByType("navigation");
  return performance.now() - navigation.loadEventEnd;
}
"""


def _for_search(url: str) -> bool:
    path = urlsplit(url).path
    return "/pagefind/" in path or "/search/" in path or path.endswith("/kb-search.js")


def _bytes(request: Any) -> int:
    sizes = request.sizes()
    return int(sizes["responseBodySize"] + sizes["responseHeadersSize"])


# What a static host compresses as it sends it (text); other files go as they are stored.
_TEXT = frozenset({".html", ".js", ".json", ".css", ".svg", ".xml", ".txt"})


@functools.cache
def _gzipped(path: Path, modified: float) -> bytes:
    return gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)


def _stored_bytes(site: Path, request: Any) -> int:
    """What ``request`` would have cost from a host that compresses nothing: the file as
    stored, unless the browser had it already, and the headers sent."""
    sizes = request.sizes()
    if not sizes["responseBodySize"]:
        return int(sizes["responseHeadersSize"])
    path = _served_file(site / unquote(urlsplit(request.url).path).lstrip("/"))
    return path.stat().st_size + int(sizes["responseHeadersSize"])


def _served_file(path: Path) -> Path:
    """The file a static host sends for ``path``: a folder's ``index.html``."""
    return path / "index.html" if path.is_dir() else path


class _Host(SimpleHTTPRequestHandler):
    """Python's file server, sending text gzipped to a browser that accepts it, as a static
    host does."""

    def do_GET(self) -> None:
        path = _served_file(Path(self.translate_path(self.path)))
        accepted = "gzip" in self.headers.get("Accept-Encoding", "")
        if path.suffix not in _TEXT or not path.is_file() or not accepted:
            super().do_GET()
            return
        body = _gzipped(path, path.stat().st_mtime)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(site: Path) -> ThreadingHTTPServer:
    handler = functools.partial(_Host, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(site: Path, queries: list[str], timeout_ms: int = 60_000) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    server = serve(site)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page()
            page.set_default_timeout(timeout_ms)
            fetched: list[Any] = []
            page.on("requestfinished", lambda request: fetched.append(request))
            page.goto(url, wait_until="load")
            ready = page.wait_for_function(_READY, polling=5).json_value()
            timings = []
            for number, query in enumerate(queries):
                timings.append(page.evaluate(_TYPE_AND_WAIT, query))
                if number == 0:
                    page.wait_for_load_state("networkidle")
                    searched = [request for request in fetched if _for_search(request.url)]
                    query_bytes = sum(_bytes(request) for request in searched)
                    uncompressed = sum(_stored_bytes(site, request) for request in searched)
                page.evaluate(_CLEAR)
            browser.close()
    finally:
        server.shutdown()
    return {
        "ready_ms": ready,
        "first_ms": timings[0],
        "repeat_ms": statistics.median(timings[1:]) if len(timings) > 1 else None,
        "query_bytes": query_bytes,
        "query_bytes_uncompressed": uncompressed,
        "queries": queries,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--query", action="append", help="a query (repeat); default: a fixed set")
    options = parser.parse_args(argv)
    print(json.dumps(measure(options.site, options.query or list(QUERIES))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
