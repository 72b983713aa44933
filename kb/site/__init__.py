"""The static site, built by MkDocs from the staged pages: the plugins mkdocs.yml declares.

Takes: the knowledge base's records (``record_pages`` runs ``kb.pipeline`` before MkDocs reads
a page) and mkdocs.yml.
Gives: the site (``site/``, and ``site/cy/`` in Welsh), with its search box's index
(Pagefind, of the release ``pagefind_release`` installs); the page plugins (``plugins``), the
Markdown extension for generated HTML blocks (``markdown``) and every page's footer facts
(``facts``).
May import: every step before it and ``kb.pipeline``; never the edits or the CLI.
"""
