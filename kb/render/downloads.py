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

Each file's title and description are messages of the catalogue (``Words``), so the downloads
page of the Welsh site says them in Welsh; a theme's title put into them stays English.
"""

import csv
import gettext
import hashlib
import io
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from kb.files import indented_json
from kb.graph.files import graph_file
from kb.localization import Said, compose
from kb.records.document import DOCUMENT_KEYS, Document, entries
from kb.references import citations
from kb.references.citations import one_line
from kb.store.database import copy_store

if TYPE_CHECKING:
    from kb.history.version import ContentVersion

CHECKSUMS = "SHA256SUMS"


def N_(message: str) -> str:
    """A message for the catalogue, translated where it is printed."""
    return message


def count_forms(one: str, many: str) -> tuple[str, str]:
    """A message with a number, for the catalogue (extracted as ``ngettext`` is)."""
    return one, many


@dataclass(frozen=True)
class Words:
    """A title or description as a message of the catalogue, with its values (record text as
    ``kb.localization.RecordText``) and, for a message with a number, its plural and count."""

    message: str | tuple[str, str]
    values: tuple[tuple[str, object], ...] = ()
    count: int = 1

    def said(self, words: gettext.NullTranslations | None = None) -> Said:
        """The words in ``words``' language (English without)."""
        words = words or gettext.NullTranslations()
        values = dict(self.values)
        if isinstance(self.message, tuple):
            text = words.ngettext(*self.message, self.count)
            values["num"] = self.count
        else:
            text = words.gettext(self.message)
        return compose(text, **values)


# What one row of each CSV file is, as the downloads page describes it.
CSV_DESCRIPTIONS = {
    "sources": N_("One row per source report."),
    "themes": N_("One row per theme."),
    "recommendations": N_("One row per statement (recommendation, key message or action)."),
    "studies": N_("One row per study."),
    "evidence": N_("One row per evidence link."),
    "examples": N_("One row per practice example."),
    "figures": N_("One row per key figure."),
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def _flat_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record with nested mappings (location, evidence judgement) as prefixed columns."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            for inner, inner_value in _flat_row(value).items():
                row[f"{key}_{inner}"] = inner_value
        else:
            row[key] = value
    return row


def csv_text(records: Sequence[Mapping[str, Any]]) -> str:
    """One CSV table: a column per field (nested fields prefixed), a row per record."""
    rows = [_flat_row(record) for record in records]
    columns = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])
    return out.getvalue()


def write_csv(records: Sequence[Mapping[str, Any]], path: Path) -> None:
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
    # The title and description as the catalogue's messages, for pages in other languages.
    words: tuple[Words, Words] | None = None

    def said(self, words: gettext.NullTranslations | None = None) -> tuple[Said, Said]:
        """The title and description in ``words``' language."""
        if self.words is None:  # no message: the English, as record text
            return compose("%(title)s", title=self.title), compose(
                "%(text)s", text=self.description
            )
        return self.words[0].said(words), self.words[1].said(words)


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


Written = tuple[str, Words, Words]  # a download's path in its folder, title and description


def write_download_files(
    document: Document,
    graph: "nx.MultiDiGraph[str]",
    database: Path,
    folder: Path,
    version: "ContentVersion | None" = None,
    site_name: str = "Knowledge base",
) -> list[Written]:
    """Write every download made from the records into ``folder``, each stating ``version``
    where its format has room (all but the theme briefs, and the checksums that
    ``listed_downloads`` writes); return each one's path, title and description, in the order
    the page lists them."""
    written: list[Written] = []

    def add(path: str, title: Words | str, description: Words | str) -> None:
        written.append(
            (
                path,
                title if isinstance(title, Words) else Words(title),
                description if isinstance(description, Words) else Words(description),
            )
        )

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "csv").mkdir(exist_ok=True)
    stated = version_data(version, site_name)
    comment = _comment_line(stated)

    copy_store(database, folder / "kb.sqlite")
    _stamp_database(folder / "kb.sqlite", stated)
    add("kb.sqlite", N_("SQLite database"), N_("Every table of the store, for SQL tools."))
    (folder / "kb.json").write_text(
        indented_json({"version": stated, **document}) + "\n", encoding="utf-8"
    )
    add("kb.json", N_("JSON export"), N_("The whole knowledge base as one document."))
    for key in DOCUMENT_KEYS:
        write_csv(entries(document, key), folder / "csv" / f"{key}.csv")
        named = (("name", key),)
        description = (
            Words(CSV_DESCRIPTIONS[key])
            if key in CSV_DESCRIPTIONS
            else Words(N_("One row per %(name)s record."), named)
        )
        add(f"csv/{key}.csv", Words(N_("CSV: %(name)s"), named), description)
    for graph_format, name, what in (
        ("graphml", "graph.graphml", N_("GraphML, for Gephi, Cytoscape or yEd.")),
        ("gexf", "graph.gexf", N_("GEXF, for Gephi.")),
        ("json", "graph.json", N_("node-link JSON, as networkx and D3 read it.")),
    ):
        if graph_format == "json":
            data = nx.node_link_data(graph, edges="edges")
            data["graph"] = {**data["graph"], "content_version": stated}
            content = (indented_json(data) + "\n").encode()
        else:
            content = _with_xml_comment(graph_file(graph, graph_format), comment)
        (folder / name).write_bytes(content)
        add(name, Words(N_("Evidence graph (%(format)s)"), (("format", graph_format),)), what)
    references = citations.all_references(document)
    (folder / "references.bib").write_text(
        f"@comment{{{comment}}}\n\n" + citations.bibtex(references), encoding="utf-8"
    )
    add("references.bib", N_("References: BibTeX"), N_("Every source and study."))
    (folder / "references.ris").write_text(citations.ris(references), encoding="utf-8")
    add("references.ris", N_("References: RIS"), N_("For EndNote, Zotero or Mendeley."))
    (folder / "references.csl.json").write_text(citations.csl_json(references), encoding="utf-8")
    add("references.csl.json", N_("References: CSL-JSON"), N_("For Zotero or Pandoc."))
    return written


def listed_downloads(folder: Path, written: Sequence[Written]) -> list[Download]:
    """The files ``written`` into ``folder``, each with its size and SHA-256, in that order,
    then ``SHA256SUMS``, written now, which lists them."""
    downloads = [
        Download(
            path,
            title.said(),
            description.said(),
            (folder / path).stat().st_size,
            sha256_of(folder / path),
            (title, description),
        )
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
            (
                Words(N_("Checksums")),
                Words(
                    N_(
                        "The SHA-256 of every file above, to check them with sha256sum -c %(file)s."
                    ),
                    (("file", CHECKSUMS),),
                ),
            ),
        )
    )
    return downloads
