"""An evidence-synthesis knowledge base: recommendations, the studies behind them, and how
strong that evidence is.

The package is laid out as the pipeline: records on disk → ``records`` (read and checked) →
``store`` (SQLite) → ``graph`` (networkx) → ``search`` (Whoosh) → ``render`` (Markdown pages)
→ ``site`` (MkDocs), run in order by ``pipeline``. ``references``, ``history`` and ``brief``
serve the steps after them; ``edits`` (reviewers' changes) and ``cli`` (the `kb` command) are
the surfaces on top. A few small modules are shared by all: ``errors``, ``settings``,
``paths``, ``files`` (atomic writes, folder swaps, JSON text), ``site_config`` (the site's
name and address from mkdocs.yml) and ``localization`` (the interface in Welsh and English).
Each sub-package's docstring says what it takes, what it gives and what it may import; a step
never imports a later one (tests/test_layout.py).
"""
