"""The site's downloads: the knowledge base in the formats other tools read.

Small writers, one per format, each from the export document (``kb.export``):

* references — every study and source — as BibTeX, RIS and CSL-JSON;
* one CSV file per record type, lists joined with ``"; "``;
* the JSON export, the SQLite store and the graph (GraphML, GEXF, node-link JSON).

The citation formats are written by ``kb.citations``, shared with ``kb export``. CSV cells
that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading ``'``.
"""

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from kb import citations
from kb.citations import one_line
from kb.export import indented_json
from kb.graph_files import graph_file

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# What one row of each CSV file is.
ROW_NAMES = {
    "sources": "source report",
    "themes": "theme",
    "recommendations": "statement (recommendation, key message or action)",
    "studies": "study",
    "evidence": "evidence link",
    "examples": "practice example",
    "figures": "key figure",
}


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(one_line(_list_item(item)) for item in value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _list_item(item: Any) -> str:
    """One item of a list cell: a mapping (an appraisal's domain) as "key: value, …"."""
    if isinstance(item, dict):
        return ", ".join(f"{key}: {value}" for key, value in item.items())
    return str(item)


def _flat_row(record: dict[str, Any]) -> dict[str, Any]:
    """A record with nested mappings (location, evidence judgement) as prefixed columns."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            for inner, inner_value in _flat_row(value).items():
                row[f"{key}_{inner}"] = inner_value
        else:
            row[key] = value
    return row


def csv_text(records: list[dict[str, Any]]) -> str:
    """One CSV table: a column per field (nested fields prefixed), a row per record."""
    rows = [_flat_row(record) for record in records]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])
    return out.getvalue()


def write_csv(records: list[dict[str, Any]], path: Path) -> None:
    """Write ``csv_text(records)`` to ``path``."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(csv_text(records))


@dataclass(frozen=True)
class Download:
    """One file of the downloads page."""

    path: str  # relative to the downloads folder
    title: str
    description: str
    size: int


def write_downloads(
    document: dict[str, list[dict[str, Any]]],
    graph: nx.MultiDiGraph,
    database: Path,
    folder: Path,
) -> list[Download]:
    """Write every download into ``folder``; return them in the order the page lists them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "csv").mkdir(exist_ok=True)
    written: list[tuple[str, str, str]] = []

    shutil.copyfile(database, folder / "kb.sqlite")
    written.append(("kb.sqlite", "SQLite database", "Every table of the store, for SQL tools."))
    (folder / "kb.json").write_text(indented_json(document) + "\n", encoding="utf-8")
    written.append(("kb.json", "JSON export", "The whole knowledge base as one document."))
    for key, records in document.items():
        write_csv(records, folder / "csv" / f"{key}.csv")
        row = ROW_NAMES.get(key, f"{key} record")
        written.append((f"csv/{key}.csv", f"CSV: {key}", f"One row per {row}."))
    for graph_format, name, what in (
        ("graphml", "graph.graphml", "GraphML, for Gephi, Cytoscape or yEd."),
        ("gexf", "graph.gexf", "GEXF, for Gephi."),
        ("json", "graph.json", "node-link JSON, as networkx and D3 read it."),
    ):
        (folder / name).write_bytes(graph_file(graph, graph_format))
        written.append((name, f"Evidence graph ({graph_format})", what))
    references = citations.all_references(document)
    (folder / "references.bib").write_text(citations.bibtex(references), encoding="utf-8")
    written.append(("references.bib", "References: BibTeX", "Every source and study."))
    (folder / "references.ris").write_text(citations.ris(references), encoding="utf-8")
    written.append(("references.ris", "References: RIS", "For EndNote, Zotero or Mendeley."))
    (folder / "references.csl.json").write_text(citations.csl_json(references), encoding="utf-8")
    written.append(("references.csl.json", "References: CSL-JSON", "For Zotero or Pandoc."))
    return [
        Download(path, title, description, (folder / path).stat().st_size)
        for path, title, description in written
    ]
