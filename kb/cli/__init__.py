"""The `kb` command: a thin layer that parses options, calls one library function, prints.

Takes: the command line. Gives: what each command prints, and its exit code.
May import: anything in the package; nothing in the package imports it but ``kb.__main__``.
(``build_site.py`` and the benchmarks' generator share its error handling.)

Exit codes: 0 success, 1 invalid input (with a message naming file, line, record and field),
2 usage error (an option, or a `KB_*` setting, with a value of the wrong kind).
"""

import difflib
import functools
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from kb.errors import KnowledgeBaseError, Problem, RecordsInvalid, SettingInvalid
from kb.paths import Paths
from kb.settings import SETTINGS, check_environment

_HELP = {
    setting.name: f"{setting.help} [env: {setting.environment_variable}]" for setting in SETTINGS
}


def print_problems(problems: list[Problem]) -> None:
    """Print problems one per line, then a count, the way `kb check` does."""
    for problem in problems:
        click.echo(str(problem))


def fails_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input errors into a clear message and exit code 1 (2 for a setting of the wrong
    kind, a usage error), never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SettingInvalid as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except RecordsInvalid as error:
            print_problems(error.problems)
            click.echo(
                f"error: {error}; nothing was written. Fix the records and run again.", err=True
            )
            sys.exit(1)
        except KnowledgeBaseError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper


def knowledge_base_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command shares: which knowledge base, and where its database lives."""
    command = click.option("--database", metavar="PATH", help=_HELP["database"])(command)
    command = click.option("--root", metavar="PATH", help=_HELP["root"])(command)
    return fails_cleanly(command)


def paths_from(root: str | None, database: str | None) -> Paths:
    return Paths.for_root(root, database=database)


def json_output(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


class LazyGroup(click.Group):
    """A command group that imports a subcommand's module only when that command is run (or
    help lists it), so `kb add` does not pay for networkx and Whoosh."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # command name → "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command named first in ``args``; for a name no command has, a usage error
        suggesting the nearest one (click's own suggestion knows only the loaded commands)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as error:
            name = error.command_name
            meant = _SYNONYMS.get(name.lower()) or next(
                iter(difflib.get_close_matches(name, self.list_commands(ctx), n=1)), None
            )
            if meant is None:
                raise
            raise click.UsageError(
                f"No such command {name!r}. Did you mean {meant!r}?", ctx
            ) from None


# Words people type for a command whose name is not spelt like them.
_SYNONYMS = {
    "validate": "check",
    "find": "search",
    "change": "edit",
    "set": "edit",
    "remove": "rm",
    "delete": "rm",
    "rename": "mv",
    "move": "mv",
}


@click.group(
    cls=LazyGroup,
    lazy={
        "add": "kb.cli.reviewer:add",
        "brief": "kb.cli.brief:brief",
        "build-db": "kb.cli.records:build_db",
        "check": "kb.cli.records:check",
        "diff": "kb.cli.releases:diff",
        "edit": "kb.cli.change:edit",
        "export": "kb.cli.records:export",
        "extract-messages": "kb.cli.translations:extract_messages",
        "fmt": "kb.cli.reviewer:fmt",
        "graph": "kb.cli.graph:graph",
        "import": "kb.cli.reviewer:import_references",
        "mv": "kb.cli.change:mv",
        "release": "kb.cli.releases:release",
        "rm": "kb.cli.change:rm",
        "search": "kb.cli.search:search",
        "show": "kb.cli.records:show",
        "stats": "kb.cli.records:stats",
    },
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="kb")
@fails_cleanly
def main() -> None:
    """Keep an evidence-synthesis knowledge base: recommendations, studies and their evidence.

    Records are YAML files under recommendations/ and evidence/; every command reads the
    knowledge base named by --root, else the one the current folder is in (this folder or
    the nearest one above it that holds them).
    """
    check_environment()  # a mistyped KB_* setting fails every command, used by it or not
