"""The record files: read from disk, checked against the one schema, and written back.

Takes: the YAML files under ``recommendations/`` and ``evidence/`` (and ``removed/``).
Gives: the validated knowledge base and every problem found (``read.check``), through the one
schema: the models (``models``), vocabularies, strength levels (``levels``), record types and
their site addresses (``types``, ``urls``); the typed shape in which every later step reads
the records back (``document``); and record files written back in the canonical
style, one writer at a time and atomically (``dump``, ``fmt``, ``write``).
May import: the shared modules only (``kb.errors``, ``kb.settings``, ``kb.paths``,
``kb.files``, ``kb.site_config``).
"""
