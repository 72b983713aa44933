"""Build everything from the records in one command: check → store → … → static site.

Usage: python build_site.py [--root PATH]
"""

import sys

import click

from kb import pipeline
from kb.cli import fails_cleanly, print_problems


@click.command()
@click.option("--root", metavar="PATH", help="Knowledge base folder (default: here).")
@fails_cleanly
def main(root: str | None) -> None:
    """Validate the records and build the SQLite store."""
    paths = pipeline.Paths.for_root(root)
    counts, warnings = pipeline.build_db(paths)
    print_problems(warnings)
    click.echo(f"store: {paths.database} ({sum(counts.values())} rows)")


if __name__ == "__main__":
    sys.exit(main())
