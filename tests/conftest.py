"""Shared fixtures: small knowledge bases copied into tmp_path, and the CLI's real entry point."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kb.cli import main

DATA = Path(__file__).parent / "data"
REPOSITORY = Path(__file__).parent.parent


@pytest.fixture
def tiny_kb(tmp_path: Path) -> Path:
    """A copy of the tiny fixture knowledge base: one source, two recommendations, one study."""
    root = tmp_path / "kb"
    shutil.copytree(DATA / "tiny", root)
    return root


def run_kb(*args: str | Path) -> Result:
    """Run the `kb` command in-process, as a user would from the shell."""
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)
