"""`kb graph …`: question the evidence graph; each command calls one function of kb.graph.evidence
(or, for export, of kb.graph.files)."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from kb.cli import json_output, knowledge_base_options, paths_from
from kb.records.vocabularies import EXPORT_FORMATS

if TYPE_CHECKING:
    import networkx as nx

    from kb.graph.evidence import Item

_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _graph(root: str | None, database: str | None) -> "nx.MultiDiGraph[str]":
    from kb.graph.evidence import build_graph
    from kb.store import current

    return build_graph(current.current_store(paths_from(root, database)))


def _graph_for(
    root: str | None, database: str | None, given: str
) -> tuple["nx.MultiDiGraph[str]", str]:
    """The graph, and the ID ``given`` means: a former ID leads to the record it became, with
    a note saying so; a removed record's ID is an error saying when and why (kb.store.aliases)."""
    from kb.graph.evidence import build_graph
    from kb.store import current
    from kb.store.aliases import aliases_in_store, resolve

    engine = current.current_store(paths_from(root, database))
    record_id, note = resolve(aliases_in_store(engine), given)
    if note:
        click.echo(f"note: {note}", err=True)
    return build_graph(engine), record_id


def _item(item: "Item") -> str:
    return f"    {item['strength']}  {item['relation']:<12}{item['id']}  {item['study_label']}"


@click.group()
def graph() -> None:
    """Question the evidence graph: profiles, gaps, shared evidence, structure, exports.

    The graph links studies to the recommendations they bear on, and recommendations,
    themes, sources, practice examples and key figures to each other. It is built from the
    SQLite store, which is rebuilt first when the records changed.

    Example: kb graph profile hsc-data-1
    """


@graph.command()
@knowledge_base_options
@click.argument("recommendation_id", metavar="ID")
@_JSON
def profile(root: str | None, database: str | None, recommendation_id: str, as_json: bool) -> None:
    """Show how well one recommendation is supported, and by what.

    Counts its evidence links by relation, strength, study type and direction, lists the
    strongest supporting and every contradicting item, and sets the computed overall level
    beside the source's own judgement.

    Example: kb graph profile hsc-data-1 --json
    """
    from kb.graph.evidence import evidence_profile

    result = evidence_profile(*_graph_for(root, database, recommendation_id))
    if as_json:
        json_output(result)
        return
    click.echo(f"{result['id']}: {result['title']}")
    headline = result["headline"]
    click.echo(f"  headline level      {headline['level'] or headline['label']}")
    click.echo(f"  computed level      {result['computed_level']}  ({result['reason']})")
    click.echo(
        f"  source's judgement  {result['judgement_level'] or 'none'}"
        + ("  DISAGREES" if result["disagrees"] else "")
    )
    if headline["explanation"]:
        click.echo(f"  {headline['explanation']}")
    shared = result["shared_passages"]
    click.echo(
        f"  evidence links      {result['links']} from {result['studies']} "
        f"stud{'y' if result['studies'] == 1 else 'ies'}"
        + (f"; {sum(map(len, shared))} rest on {len(shared)} shared passages" if shared else "")
    )
    for name, counted in (
        ("by relation", result["by_relation"]),
        ("by strength", result["by_strength"]),
        ("by study type", result["by_study_type"]),
        ("by direction", result["by_direction"]),
    ):
        counts = ", ".join(f"{key} {count}" for key, count in counted.items() if count)
        click.echo(f"    {name:<17}{counts or '-'}")
    for name, items in (
        ("strongest supporting", result["strongest_supporting"]),
        ("contradicting", result["contradicting"]),
    ):
        click.echo(f"  {name}  ({len(items)})")
        for item in items:
            click.echo(_item(item))
    click.echo(f"  practice examples   {', '.join(result['examples']) or '-'}")


@graph.command()
@knowledge_base_options
@_JSON
def gaps(root: str | None, database: str | None, as_json: bool) -> None:
    """List where the evidence is thin: the basis of the evidence gap map.

    Recommendations whose links are all S0–S1, themes with no evidence at S3 or above, and
    recommendations with no evidence link and no practice example.

    Example: kb graph gaps --json
    """
    from kb.graph.evidence import evidence_gaps

    result = evidence_gaps(_graph(root, database))
    if as_json:
        json_output(result)
        return
    sections: tuple[tuple[str, Sequence[Mapping[str, Any]]], ...] = (
        ("Recommendations resting only on S0–S1", result["recommendations_on_s0_s1"]),
        ("Themes with no S3+ evidence", result["themes_without_s3"]),
        ("Recommendations with no evidence or examples", result["recommendations_without_links"]),
    )
    for heading, rows in sections:
        click.echo(f"{heading} ({len(rows)})")
        for row in rows:
            best = row.get("best_level", "") or "-"
            click.echo(f"  {row['id']:<28}{best:<4}{row['title']}")


@graph.command()
@knowledge_base_options
@click.argument("recommendation_id", metavar="ID")
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="How many related recommendations to list.",
)
@_JSON
def related(
    root: str | None, database: str | None, recommendation_id: str, k: int, as_json: bool
) -> None:
    """List the recommendations that share most supporting studies and practice examples.

    Score = (2 × Jaccard over supporting studies + Jaccard over practice examples) / 3;
    ties are broken by ID.

    Example: kb graph related hsc-data-1 -k 3
    """
    from kb.graph.evidence import related_recommendations

    result = related_recommendations(*_graph_for(root, database, recommendation_id), k)
    if as_json:
        json_output(result)
        return
    if not result:
        click.echo(
            f"no recommendation shares supporting studies or examples with {recommendation_id}"
        )
    for row in result:
        click.echo(f"{row['score']:.3f}  {row['id']}: {row['title']}")
        for name, shared in (
            ("shared studies", row["shared_studies"]),
            ("shared examples", row["shared_examples"]),
        ):
            if shared:
                click.echo(f"       {name}: {', '.join(shared)}")


@graph.command()
@knowledge_base_options
@click.argument("study_id", metavar="STUDY-ID")
@_JSON
def uses(root: str | None, database: str | None, study_id: str, as_json: bool) -> None:
    """Show what rests on one study: what changes if it is retracted.

    For each recommendation it bears on: its links and the computed level with and without
    the study; then the practice examples and key figures that cite it.

    Example: kb graph uses krause-2012
    """
    from kb.graph.evidence import studies_uses

    result = studies_uses(*_graph_for(root, database, study_id))
    if as_json:
        json_output(result)
        return
    click.echo(f"{result['id']}: {result['label']} ({result['study_type']})")
    click.echo(f"  recommendations  ({len(result['recommendations'])})")
    for row in result["recommendations"]:
        change = "drops" if row["drops"] else "keeps its level"
        click.echo(
            f"    {row['id']:<28}{row['level']} -> {row['level_without']} without it  ({change})"
        )
        for item in row["links"]:
            click.echo("  " + _item(item))
    click.echo(f"  examples         {', '.join(result['examples']) or '-'}")
    click.echo(f"  figures          {', '.join(result['figures']) or '-'}")


@graph.command()
@knowledge_base_options
@_JSON
def stats(root: str | None, database: str | None, as_json: bool) -> None:
    """Count nodes and edges by type; list most-cited studies, orphans and components.

    Example: kb graph stats --json
    """
    from kb.graph.evidence import graph_stats

    result = graph_stats(_graph(root, database))
    if as_json:
        json_output(result)
        return
    for name in ("nodes", "edges"):
        click.echo(f"{name.capitalize()}  ({sum(result[name].values())})")
        for kind, count in result[name].items():
            click.echo(f"  {kind:<24}{count:>6}")
    click.echo("Most-cited studies  (evidence links, recommendations)")
    for row in result["most_cited_studies"]:
        click.echo(f"  {row['links']:>4}{row['recommendations']:>4}  {row['id']}  {row['label']}")
    for name in ("orphan_studies", "orphan_recommendations"):
        click.echo(f"{name.replace('_', ' ').capitalize()}  ({len(result[name])})")
        for node in result[name]:
            click.echo(f"  {node}")
    click.echo(
        f"Components  {result['components']} (largest {result['largest_component']} "
        f"nodes; {result['isolated_nodes']} isolated)"
    )


@graph.command("export")
@knowledge_base_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(EXPORT_FORMATS),
    required=True,
    help="graphml or gexf for Gephi and Cytoscape; json for node-link JSON.",
)
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@_JSON
def export_(
    root: str | None, database: str | None, output_format: str, path: str, as_json: bool
) -> None:
    """Write the graph to PATH as GraphML, GEXF or node-link JSON.

    The file is written to a temporary name and moved into place, so readers never see half
    a file. In GraphML and GEXF, lists are JSON text and empty values are left out.

    Example: kb graph export --format graphml build/graph.graphml
    """
    from kb.graph.files import export_graph

    result = export_graph(_graph(root, database), output_format, path)
    if as_json:
        json_output(result)
        return
    click.echo(
        f"wrote {result['path']} ({result['format']}): {result['nodes']} nodes, "
        f"{result['edges']} edges"
    )
