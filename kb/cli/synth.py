"""`kb synth`: write a synthetic knowledge base of any size, for benchmarks."""

from pathlib import Path

import click

from kb.cli import fails_cleanly
from kb.settings import setting_value


@click.command()
@click.argument("out_dir", metavar="OUT_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--studies", type=click.IntRange(0), default=1000, show_default=True, help="Studies to write."
)
@click.option(
    "--recommendations",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Recommendations to write.",
)
@click.option(
    "--links",
    type=click.IntRange(0),
    help="Evidence links in all, spread unevenly over studies.  [default: 3 per study]",
)
@click.option(
    "--sources",
    type=click.IntRange(1),
    help="Reports, each with its own full text.  [default: 1 per 60 recommendations]",
)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Seed: same seed, same files."
)
@click.option(
    "--like",
    metavar="PATH",
    help="Knowledge base whose records set text lengths and vocabulary.  "
    "[default: --root or KB_ROOT, else a built-in word list]",
)
@fails_cleanly
def synth(
    out_dir: Path,
    studies: int,
    recommendations: int,
    links: int | None,
    sources: int | None,
    seed: int,
    like: str | None,
) -> None:
    """Write a synthetic knowledge base into OUT_DIR that `kb check` accepts.

    Text lengths and vocabulary are drawn from the real records; evidence links per study
    follow a Zipf-like law (many single-link studies, a few hubs); every record type and
    strength level appears. One seed always gives the same files.

    Example: kb synth --studies 1000 --recommendations 200 --links 3000 --seed 1 /tmp/kb-1000
    """
    from kb.synth import synthesise

    result = synthesise(
        out_dir,
        studies=studies,
        recommendations=recommendations,
        links=links,
        seed=seed,
        sources=sources,
        like=Path(setting_value("root", like)),
    )
    counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
    click.echo(
        f"wrote {out_dir}: {counts}, {result.links} evidence links "
        f"({result.files} files, {result.bytes / 1e6:.1f} MB)"
    )
