"""The SQLite store: the checked records as tables, and the export document read back.

Takes: the validated knowledge base (``kb.records``).
Gives: the store (``database``, the only module that opens database sessions), kept current
with the records (``current``); the whole knowledge base as one JSON-ready document
(``export``, read with sqlite3 so that reading commands stay quick); one record and what
refers to it (``describe``), former IDs (``aliases``) and counts (``stats``).
May import: the shared modules, ``kb.records``, ``kb.localization`` and ``kb.references``.
"""
