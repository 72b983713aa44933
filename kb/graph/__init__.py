"""The evidence graph: how recommendations, studies, themes, sources, examples and figures link.

Takes: the store (``kb.store``) or its export document.
Gives: a networkx graph with every question asked of it: evidence profiles, gaps, related
recommendations (``evidence``); the graph as GraphML, GEXF and JSON files (``files``); and the
score behind related recommendations, on plain data without networkx (``related``).
May import: the shared modules, ``kb.records``, ``kb.localization``, ``kb.references`` and
``kb.store``.
"""
