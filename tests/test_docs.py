"""The docs checked against the code: docs/cli.md is what the commands say of themselves, and
every command, option and `KB_*` setting is documented there."""

import re
from pathlib import Path

import click
import pytest

from kb.cli.reference import cli_reference, commands
from kb.settings import SETTINGS

pytestmark = pytest.mark.cli

REPOSITORY = Path(__file__).parent.parent
CLI_PAGE = REPOSITORY / "docs" / "cli.md"
START, END = "]]] -->\n", "<!-- [[[end]]] -->"
COMMANDS = [context.command_path for context in commands()]


def _page() -> str:
    return CLI_PAGE.read_text(encoding="utf-8")


def _section(name: str) -> str:
    """The part of docs/cli.md about one command: from its heading to the next one."""
    page = _page()
    start = page.index(f"## `{name}` ")
    end = page.find("\n## ", start + 1)
    return page[start : end if end != -1 else len(page)]


def test_cli_page_is_generated_from_the_commands() -> None:
    page = _page()
    generated = page[page.index(START) + len(START) : page.index(END)]
    assert generated == cli_reference(), "docs/cli.md is out of date: run `make docs`"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_a_section(name: str) -> None:
    context = next(context for context in commands() if context.command_path == name)
    assert context.command.get_short_help_str().strip(), f"`{name}` has no help text"
    assert f"- [`{name}`](#" in _page(), f"`{name}` is not in the list of commands"
    assert _section(name)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_documented(name: str) -> None:
    context = next(context for context in commands() if context.command_path == name)
    section = _section(name)
    for option in context.command.params:
        if not isinstance(option, click.Option):
            continue  # an argument: its metavar is in the usage line
        assert option.help, f"`{name} {option.opts[0]}` has no help text"
        for spelling in (*option.opts, *option.secondary_opts):
            assert spelling in section, f"`{name} {spelling}` is not in docs/cli.md"


def test_every_kb_setting_is_documented() -> None:
    """Every ``KB_*`` variable: those declared in kb.settings, and any named in the code."""
    named = {setting.environment_variable for setting in SETTINGS}
    for path in (REPOSITORY / "kb").rglob("*.py"):
        named |= set(re.findall(r"\bKB_[A-Z][A-Z_]*\b", path.read_text(encoding="utf-8")))
    settings = _page()[_page().index("## Settings") :]
    missing = sorted(name for name in named if f"`{name}`" not in settings)
    assert not missing, f"not in docs/cli.md's settings: {', '.join(missing)}"


def test_cli_page_is_in_the_nav() -> None:
    assert "cli.md" in (REPOSITORY / "mkdocs.yml").read_text(encoding="utf-8")
