"""The site's downloads: the knowledge base in the formats other tools read.

Small writers, one per format, each from the export document (``kb.store.export``):

* references — every study and source — as BibTeX, RIS and CSL-JSON;
* one CSV file per record type, lists joined with ``"; "``;
* the JSON export, the SQLite store and the graph (GraphML, GEXF, node-link JSON).

The citation formats are written by ``kb.references.citations``, shared with ``kb export``. CSV
cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) get a leading ``'``.

Each file states the content version it holds (``kb.history.version``) where its format has
room for it: a ``version`` object at the top of the JSON export, a ``content_version`` table
in the SQLite file, a comment in the GraphML, GEXF and BibTeX files, a graph attribute in the
node-link JSON. CSV, RIS and CSL-JSON have none; the downloads page states it for them, with
every file's size and SHA-256, which ``SHA256SUMS`` lists too (``sha256sum -c SHA256SUMS``).
"""

import csv
import hashlib
import io
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from kb.files import indented_json
from kb.graph.files import graph_file
from kb.references import citations
from kb.references.citations import one_line

if TYPE_CHECKING:
    from kb.history.version import ContentVersion

CHECKSUMS = "SHA256SUMS"

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
    sha256: str


def version_data(version: "ContentVersion | None", site_name: str) -> dict[str, Any]:
    """What a download says of the content it holds."""
    if version is None:
        return {"knowledge_base": site_name, "version": None, "label": "not known"}
    return {"knowledge_base": site_name, **version.as_dict()}


def _comment_line(version: dict[str, Any]) -> str:
    """The version in one line that an XML or BibTeX comment can hold: no ``--`` (which ends
    an XML comment), no braces or ``@`` (which BibTeX reads), no line breaks."""
    text = f"{version['knowledge_base']}: content version {version['version'] or 'unknown'}"
    text += f" ({version['label']})"
    if version.get("commit"):
        text += f", commit {version['commit']}"
    for unsafe in ("--", "{", "}", "@", "\n", "\r", "<", ">"):
        text = text.replace(unsafe, " ")
    return text


def _with_xml_comment(content: bytes, comment: str) -> bytes:
    """An XML document with a comment after its declaration."""
    declaration, newline, rest = content.partition(b"\n")
    if not declaration.startswith(b"<?xml"):
        return f"<!-- {comment} -->\n".encode() + content
    return declaration + newline + f"<!-- {comment} -->\n".encode() + rest


def _stamp_database(path: Path, version: dict[str, Any]) -> None:
    """Add a ``content_version`` table (name, value) to the downloaded copy of the store."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute("CREATE TABLE content_version (name TEXT PRIMARY KEY, value TEXT)")
            connection.executemany(
                "INSERT INTO content_version VALUES (?, ?)",
                [(name, None if value is None else str(value)) for name, value in version.items()],
            )
    finally:
        connection.close()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as opened:
        for block in iter(lambda: opened.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_downloads(
    document: dict[str, list[dict[str, Any]]],
    graph: "nx.MultiDiGraph[str]",
    database: Path,
    folder: Path,
    version: "ContentVersion | None" = None,
    site_name: str = "Knowledge base",
    written_already: Sequence[tuple[str, str, str]] = (),
) -> list[Download]:
    """Write every download into ``folder``, each stating ``version`` where its format has
    room; return them in the order the page lists them, with ``SHA256SUMS`` last.

    ``written_already`` lists files already in ``folder`` (the theme briefs), as (path,
    title, description), to be listed and checksummed after the rest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "csv").mkdir(exist_ok=True)
    written: list[tuple[str, str, str]] = []
    stated = version_data(version, site_name)
    comment = _comment_line(stated)

    shutil.copyfile(database, folder / "kb.sqlite")
    _stamp_database(folder / "kb.sqlite", stated)
    written.append(("kb.sqlite", "SQLite database", "Every table of the store, for SQL tools."))
    (folder / "kb.json").write_text(
        indented_json({"version": stated, **document}) + "\n", encoding="utf-8"
    )
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
        if graph_format == "json":
            data = nx.node_link_data(graph, edges="edges")
            data["graph"] = {**data["graph"], "content_version": stated}
            content = (indented_json(data) + "\n").encode()
        else:
            content = _with_xml_comment(graph_file(graph, graph_format), comment)
        (folder / name).write_bytes(content)
        written.append((name, f"Evidence graph ({graph_format})", what))
    references = citations.all_references(document)
    (folder / "references.bib").write_text(
        f"@comment{{{comment}}}\n\n" + citations.bibtex(references), encoding="utf-8"
    )
    written.append(("references.bib", "References: BibTeX", "Every source and study."))
    (folder / "references.ris").write_text(citations.ris(references), encoding="utf-8")
    written.append(("references.ris", "References: RIS", "For EndNote, Zotero or Mendeley."))
    (folder / "references.csl.json").write_text(citations.csl_json(references), encoding="utf-8")
    written.append(("references.csl.json", "References: CSL-JSON", "For Zotero or Pandoc."))
    written.extend(written_already)
    downloads = [
        Download(path, title, description, (folder / path).stat().st_size, sha256_of(folder / path))
        for path, title, description in written
    ]
    sums = "".join(f"{item.sha256}  {item.path}\n" for item in downloads)
    (folder / CHECKSUMS).write_text(sums, encoding="utf-8")
    downloads.append(
        Download(
            CHECKSUMS,
            "Checksums",
            "The SHA-256 of every file above, to check them with sha256sum -c SHA256SUMS.",
            (folder / CHECKSUMS).stat().st_size,
            sha256_of(folder / CHECKSUMS),
        )
    )
    return downloads
