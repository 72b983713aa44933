"""The export document indexed the ways a brief looks its records up.

Like ``kb.render.model.SiteModel`` but without the evidence graph, so ``kb brief`` does not pay
for networkx: statements by theme (sub-themes included) in the order the report lists them,
evidence links and practice examples by statement.
"""

from collections import defaultdict

from kb.records.document import Document, EvidenceEntry, ExampleEntry


class Records:
    """Every record of an export document (``kb.store.export``), indexed for a brief."""

    def __init__(self, document: Document):
        self.document = document
        self.sources = {row["id"]: row for row in document["sources"]}
        self.themes = {row["id"]: row for row in document["themes"]}
        self.recommendations = {row["id"]: row for row in document["recommendations"]}
        self.studies = {row["id"]: row for row in document["studies"]}
        self.examples = {row["id"]: row for row in document["examples"]}
        self.evidence_of: dict[str, list[EvidenceEntry]] = defaultdict(list)
        for link in document["evidence"]:
            self.evidence_of[link["recommendation"]].append(link)
        self.examples_of: dict[str, list[ExampleEntry]] = defaultdict(list)
        for example in document["examples"]:
            for rec_id in example["recommendations"]:
                self.examples_of[rec_id].append(example)
        self.children: dict[str, list[str]] = defaultdict(list)
        for theme in document["themes"]:
            if theme["parent"]:
                self.children[theme["parent"]].append(theme["id"])
        self._theme_rank = {theme_id: rank for rank, theme_id in enumerate(self.theme_order())}

    def theme_order(self) -> list[str]:
        """Every theme, each followed by the themes nested in it, as the site lists them."""
        ordered: list[str] = []

        def visit(theme_id: str) -> None:
            ordered.append(theme_id)
            for child in sorted(self.children[theme_id]):
                visit(child)

        for theme_id in sorted(self.themes):
            if not self.themes[theme_id]["parent"]:
                visit(theme_id)
        return ordered

    def report_order(self, rec_id: str) -> tuple[int, int, str]:
        """Where a statement comes in the report: its first theme, then its place in that
        theme's list (the explorer's default order)."""
        rec = self.recommendations[rec_id]
        theme = rec["themes"][0] if rec["themes"] else ""
        return (self._theme_rank.get(theme, len(self._theme_rank)), rec["position"] or 0, rec_id)

    def statements_under(self, theme_id: str) -> list[str]:
        """The statements in a theme or any theme nested in it, in the report's order."""
        themes, stack = set(), [theme_id]
        while stack:
            current = stack.pop()
            if current not in themes:
                themes.add(current)
                stack.extend(self.children[current])
        found = [
            rec_id
            for rec_id, rec in self.recommendations.items()
            if themes.intersection(rec["themes"])
        ]
        return sorted(found, key=self.report_order)
