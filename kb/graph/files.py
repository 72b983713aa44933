"""The evidence graph as files: GraphML, GEXF and node-link JSON (``kb graph export``, downloads).

``export_graph`` writes one atomically, through networkx for GraphML and GEXF, from the
``flattened`` copy those formats can hold. ``graph_file`` gives the same bytes without
networkx's XML writers, which build and indent a tree of the whole graph: a few seconds per
format at 10,000 studies, where writing each line as a string takes a fifth of that.
"""

import io
import json
import time
from pathlib import Path
from typing import Any

import networkx as nx

from kb.files import indented_json, write_atomically
from kb.records.vocabularies import EXPORT_FORMATS


def _plain(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes GraphML and GEXF can hold: None left out, lists as JSON text."""
    return {
        name: json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
        for name, value in attributes.items()
        if value is not None
    }


def flattened(graph: "nx.MultiDiGraph[str]", gexf: bool = False) -> "nx.MultiDiGraph[str]":
    """A copy of the graph for GraphML or GEXF, in the same order.

    GEXF keeps an edge's ``type`` for directed/undirected, so there the edge type is written
    as ``edge_type``, and edges that are not evidence links get the ID ``from>to:key``.
    """
    flat: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    flat.add_nodes_from((node, _plain(data)) for node, data in graph.nodes(data=True))
    for source, target, key, data in graph.edges(keys=True, data=True):
        attributes = _plain(data)
        if gexf:
            attributes["edge_type"] = attributes.pop("type")
            attributes.setdefault("id", f"{source}>{target}:{key}")
        flat.add_edge(source, target, key=key, **attributes)
    return flat


def export_graph(graph: "nx.MultiDiGraph[str]", format: str, path: str | Path) -> dict[str, Any]:
    """Write the graph as GraphML, GEXF or node-link JSON, atomically; return what was written.

    JSON keeps every attribute as it is; GraphML and GEXF get the ``flattened`` copy, written
    by networkx (``graph_file`` writes the same bytes quicker, for the site's downloads).
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {format!r}")
    path = Path(path)

    def write(temporary: Path) -> None:
        if format == "json":
            temporary.write_bytes(graph_file(graph, "json"))
        elif format == "graphml":
            # networkx's own writer, not the lxml one nx.write_graphml picks when lxml is
            # installed (python-docx brings it): the bytes stay the same either way.
            nx.write_graphml_xml(flattened(graph), temporary)
        else:
            nx.write_gexf(flattened(graph, gexf=True), temporary)

    write_atomically(path, write)
    return {
        "format": format,
        "path": str(path),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
    }


def graph_file(graph: "nx.MultiDiGraph[str]", format: str) -> bytes:
    """The bytes ``export_graph`` writes, made without networkx's XML writers.

    Those build an ElementTree of the whole graph, indent it and serialise it, a few seconds
    per format at 10,000 studies; here each line is written as a string. The XML writers
    handle what ``flattened`` gives (attributes of type str, int, float and bool, none with a
    name GraphML or GEXF treats specially); for anything else networkx writes the file.
    """
    if format == "json":
        return (indented_json(nx.node_link_data(graph, edges="edges")) + "\n").encode()
    try:
        text = _graphml_text(graph) if format == "graphml" else _gexf_text(graph)
    except _NotPlain:
        written = io.BytesIO()
        if format == "graphml":
            nx.write_graphml_xml(flattened(graph), written)
        else:
            nx.write_gexf(flattened(graph, gexf=True), written)
        return written.getvalue()
    # As ElementTree writes: UTF-8, anything it cannot encode as a character reference.
    return text.encode("utf-8", errors="xmlcharrefreplace")


_XML_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"


class _NotPlain(Exception):
    """The graph holds an attribute that ``graph_file``'s XML writers leave to networkx."""


def _text(value: str) -> str:
    """Character data escaped as ElementTree escapes it."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value


def _attribute(value: str) -> str:
    """An attribute value escaped as ElementTree escapes it."""
    value = _text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    if "\t" in value:
        value = value.replace("\t", "&#09;")
    return value


def _element(tag: str, attributes: str, children: list[str], indent: str) -> str:
    """An element with its children, each on a line of its own, as networkx indents them."""
    if not children:
        return f"<{tag}{attributes} />"
    inner = f"\n{indent}  "
    return f"<{tag}{attributes}>{inner}{inner.join(children)}\n{indent}</{tag}>"


def _xml_types(writer: type) -> dict[type, str]:
    """networkx's XML type for each Python type its ``writer`` class writes."""
    types = writer()
    types.construct_types()
    return {kind: types.xml_type[kind] for kind in (str, int, float, bool)}


def _graphml_text(graph: "nx.MultiDiGraph[str]") -> str:
    """``nx.write_graphml(flattened(graph))``'s document, as a string."""
    xml_types = _xml_types(nx.readwrite.graphml.GraphML)
    keys: dict[tuple[str, str, str], str] = {}  # (name, XML type, node or edge) → key ID

    def data(scope: str, attributes: dict[str, Any]) -> list[str]:
        lines = []
        for name, value in attributes.items():
            xml_type = xml_types.get(type(value))
            if xml_type is None:
                raise _NotPlain(name)
            key = keys.get((name, xml_type, scope))
            if key is None:
                key = keys[name, xml_type, scope] = f"d{len(keys)}"
            text = _text(str(value))
            lines.append(f'<data key="{key}">{text}</data>' if text else f'<data key="{key}" />')
        return lines

    elements = [
        _element("node", f' id="{_attribute(str(node))}"', data("node", _plain(values)), "    ")
        for node, values in graph.nodes(data=True)
    ]
    elements += [
        _element(
            "edge",
            f' source="{_attribute(str(source))}" target="{_attribute(str(target))}"'
            f' id="{_attribute(str(key))}"',
            data("edge", _plain(values)),
            "    ",
        )
        for source, target, key, values in graph.edges(keys=True, data=True)
    ]
    edge_default = "directed" if graph.is_directed() else "undirected"
    graphml = nx.readwrite.graphml.GraphML
    root = [
        *(
            f'<key id="{key}" for="{scope}" attr.name="{_attribute(name)}"'
            f' attr.type="{xml_type}" />'
            for (name, xml_type, scope), key in reversed(keys.items())
        ),
        _element("graph", f' edgedefault="{edge_default}"', elements, "  "),
    ]
    attributes = (
        f' xmlns="{graphml.NS_GRAPHML}" xmlns:xsi="{graphml.NS_XSI}"'
        f' xsi:schemaLocation="{graphml.SCHEMALOCATION}"'
    )
    return f"{_XML_DECLARATION}{_element('graphml', attributes, root, '')}\n"


# Attributes GEXF writes in the element itself, or reads as time, hierarchy or drawing.
_GEXF_SPECIAL = {
    "node": {"id", "pid", "start", "end", "parents", "spells", "viz", "key", "networkx_key"},
    "edge": {"label", "weight", "type", "start", "end", "spells", "viz"},
}


def _gexf_text(graph: "nx.MultiDiGraph[str]") -> str:
    """``nx.write_gexf(flattened(graph, gexf=True))``'s document, as a string."""
    xml_types = _xml_types(nx.readwrite.gexf.GEXF)
    # Per node or edge: attribute title → (ID, XML type); IDs count up across both.
    declared: dict[str, dict[str, tuple[str, str]]] = {"node": {}, "edge": {}}

    def values(scope: str, attributes: dict[str, Any]) -> list[str]:
        lines = []
        known = declared[scope]
        for title, value in attributes.items():
            attribute = known.get(title)
            if attribute is None:
                xml_type = xml_types.get(type(value))
                if xml_type is None or title in _GEXF_SPECIAL[scope]:
                    raise _NotPlain(title)
                attribute = known[title] = (
                    str(len(declared["node"]) + len(declared["edge"])),
                    xml_type,
                )
            elif type(value) not in xml_types:
                raise _NotPlain(title)
            if type(value) is bool:
                text = "true" if value else "false"
            else:
                text = str(value)
                if type(value) is float:
                    text = {"inf": "INF", "nan": "NaN", "-inf": "-INF"}.get(text, text)
            lines.append(f'<attvalue for="{attribute[0]}" value="{_attribute(text)}" />')
        return [_element("attvalues", "", lines, "        ")] if lines else []

    nodes = []
    for node, data in graph.nodes(data=True):
        attributes = _plain(data)
        label = attributes.pop("label", node)
        nodes.append(
            _element(
                "node",
                f' id="{_attribute(str(node))}" label="{_attribute(str(label))}"',
                values("node", attributes),
                "      ",
            )
        )
    edges = []
    for source, target, key, data in graph.edges(keys=True, data=True):
        if "key" in data or "networkx_key" in data:
            raise _NotPlain("key")
        attributes = _plain(data)
        attributes["edge_type"] = attributes.pop("type")
        edge_id = attributes.pop("id") if "id" in attributes else f"{source}>{target}:{key}"
        attributes["networkx_key"] = key
        edges.append(
            _element(
                "edge",
                f' source="{_attribute(str(source))}" target="{_attribute(str(target))}"'
                f' id="{_attribute(str(edge_id))}"',
                values("edge", attributes),
                "      ",
            )
        )
    declarations = [
        _element(
            "attributes",
            f' mode="static" class="{scope}"',
            [
                f'<attribute id="{number}" title="{_attribute(title)}" type="{xml_type}" />'
                for title, (number, xml_type) in declared[scope].items()
            ],
            "    ",
        )
        for scope in ("edge", "node")
        if declared[scope]
    ]
    edge_default = "directed" if graph.is_directed() else "undirected"
    graph_element = _element(
        "graph",
        f' defaultedgetype="{edge_default}" mode="static" name=""',
        [*declarations, _element("nodes", "", nodes, "    "), _element("edges", "", edges, "    ")],
        "  ",
    )
    meta = _element(
        "meta",
        f' lastmodifieddate="{time.strftime("%Y-%m-%d")}"',
        [f"<creator>NetworkX {_text(nx.__version__)}</creator>"],
        "  ",
    )
    version = nx.readwrite.gexf.GEXF.versions["1.2draft"]
    namespaces = (
        f' xmlns="{version["NS_GEXF"]}" xmlns:xsi="{version["NS_XSI"]}"'
        f' xsi:schemaLocation="{version["SCHEMALOCATION"]}" version="{version["VERSION"]}"'
    )
    return f"{_XML_DECLARATION}{_element('gexf', namespaces, [meta, graph_element], '')}\n"
