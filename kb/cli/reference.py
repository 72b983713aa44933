"""The command-line reference, docs/cli.md, written from the commands themselves.

Each command's and subcommand's own ``--help``, at a fixed width, then the ``KB_*`` settings
from ``kb.settings.SETTINGS``. docs/cli.md holds it between cog markers; `make docs` (cog -r)
writes it again, and tests/test_docs.py fails when the page and the commands disagree.
"""

from collections.abc import Iterator

import click

from kb.cli import main
from kb.settings import SETTINGS

WIDTH = 100  # the help's width, as `kb` prints it on a wide terminal


def _root_context() -> click.Context:
    """``kb``'s context as the shell gives it, but always ``WIDTH`` columns wide."""
    return click.Context(main, info_name="kb", terminal_width=WIDTH, **main.context_settings)


def commands(context: click.Context | None = None) -> Iterator[click.Context]:
    """A context for every command under the group of ``context`` (by default ``kb``),
    depth first in name order; ``context.command_path`` is its name ("kb edit study")."""
    parent = context or _root_context()
    group = parent.command
    assert isinstance(group, click.Group)
    for name in group.list_commands(parent):
        command = group.get_command(parent, name)
        if command is None or command.hidden:
            continue
        child = click.Context(command, info_name=name, parent=parent)
        yield child
        if isinstance(command, click.Group):
            yield from commands(child)


def _anchor(name: str) -> str:
    return name.replace(" ", "-")


def cli_reference() -> str:
    """The Markdown of the reference: a list of commands, each one's help, the settings."""
    listed = [(context.command_path, context) for context in commands()]
    lines = [
        "Every command, with the help `kb COMMAND --help` prints. Each reads the knowledge base",
        "named by `--root`, else the one the current folder is in.",
        "",
    ]
    lines += [f"- [`{name}`](#{_anchor(name)})" for name, _ in listed]
    lines += ["- [Settings](#settings)", ""]
    lines += ["```text", main.get_help(_root_context()).rstrip(), "```", ""]
    for name, context in listed:
        lines += [f"## `{name}` {{#{_anchor(name)}}}", ""]
        lines += ["```text", context.command.get_help(context).rstrip(), "```", ""]
    lines += [
        "## Settings {#settings}",
        "",
        "Each setting is an option of the commands that use it, or an environment variable that",
        "every command reads; an option wins over the variable. A value of the wrong kind stops",
        "any command before it starts, with exit code 2.",
        "",
        "| Variable | Option | Default | What it sets |",
        "| --- | --- | --- | --- |",
    ]
    options = {
        option
        for _, context in listed
        for parameter in context.command.params
        for option in parameter.opts
    }
    for setting in SETTINGS:
        option = f"--{setting.name.replace('_', '-')}"
        option = f"`{option}`" if option in options else "none"
        lines.append(
            f"| `{setting.environment_variable}` | {option} | `{setting.default}` "
            f"| {setting.help.replace('|', '&#124;')} |"
        )
    return "\n".join(lines) + "\n"
