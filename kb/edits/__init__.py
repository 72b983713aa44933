"""Reviewers' changes to the records: add, edit, remove, rename, each shown before it is made.

Takes: a change asked for (``kb add``, ``kb edit``, ``kb rm``, ``kb mv``) and the records on disk.
Gives: record files changed atomically under the repository lock, every file a change touches
worked out first (``changes``), checked against the whole knowledge base (``changing``), and
the store and index refreshed; a removed record leaves a tombstone (``tombstones``).
May import: the steps up to ``kb.search``; never the pages, the site or the CLI.
"""
