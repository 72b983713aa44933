"""References: citations in words and in the formats citation managers read, reference
imports, and duplicate detection.

Takes: records (``kb.records``), rows of the export document, and reference files exported from
Zotero, EndNote and the like (RIS, BibTeX, CSL-JSON).
Gives: citation text and files (``citations``), how to quote and cite any record
(``record_citations``), references parsed into study fields (``importers``), and whether a
reference is already in the knowledge base (``duplicates``).
May import: the shared modules, ``kb.records`` and ``kb.localization``.
"""
