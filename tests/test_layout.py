"""The package is laid out as the pipeline, and a step never imports a later one.

``LAYERS`` lists the package's parts in the order data flows through them (README, "Where
things are"). A module may import from its own part and from the parts before it, at the top
of a file or inside a function alike; an import only for type checking (``if TYPE_CHECKING``)
runs nothing and does not count.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parent.parent / "kb"

LAYERS: tuple[tuple[str, ...], ...] = (
    # shared by every step
    ("kb.errors", "kb.settings", "kb.paths", "kb.files", "kb.processes", "kb.site_config"),
    ("kb.records",),  # record files → a checked knowledge base; written back
    ("kb.localization",),  # the interface's words, in English and Welsh
    ("kb.references",),  # citations, reference imports, duplicates
    ("kb.store",),  # → SQLite, and the export document read back
    ("kb.graph",),  # → the evidence graph
    ("kb.search",),  # → the search index, and queries
    ("kb.history",),  # versions, differences, releases, from git
    ("kb.brief",),  # evidence briefs
    ("kb.render",),  # → the site's Markdown pages
    ("kb.pipeline",),  # every step, in order
    ("kb.site",),  # → the MkDocs site
    ("kb.edits",),  # reviewers' changes to the records
    ("kb.cli", "kb.__main__"),  # the `kb` command
)


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    """The place of ``module`` in ``LAYERS``, by its longest listed prefix (the package's own
    ``__init__``, which imports nothing, is last)."""
    if module == "kb":
        return len(LAYERS) - 1
    placed = [
        (len(name), place)
        for place, names in enumerate(LAYERS)
        for name in names
        if module == name or module.startswith(name + ".")
    ]
    return max(placed)[1] if placed else None


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every ``kb`` module ``tree`` imports when it runs, with the line."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (item for child in node.orelse for item in imported_modules(child))
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "kb":
                yield from ((node.lineno, f"kb.{alias.name}") for alias in node.names)
            elif node.module.startswith("kb."):
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kb."):
                    yield node.lineno, alias.name
        yield from imported_modules(node)


def violations(package: Path = PACKAGE) -> list[str]:
    """Every import of a later step, and every module no layer holds."""
    found = []
    for path in sorted(package.rglob("*.py")):
        module = module_name(path, package)
        place = layer_of(module)
        if place is None:
            found.append(f"{module} is in no layer: add it to LAYERS")
            continue
        for line, imported in imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            other = layer_of(imported)
            if other is not None and other > place:
                found.append(
                    f"{path.relative_to(package.parent)}:{line}: {module} imports "
                    f"{imported}, a later step"
                )
    return found


def test_no_step_imports_a_later_one() -> None:
    assert violations() == []


def test_an_import_of_a_later_step_is_found(tmp_path: Path) -> None:
    package = tmp_path / "kb"
    (package / "records").mkdir(parents=True)
    (package / "records" / "load.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from kb.errors import Problem\n"
        "if TYPE_CHECKING:\n    from kb.store.database import Engine\n"
        "def late():\n    from kb.render import pages\n",
        encoding="utf-8",
    )
    (package / "unplaced.py").write_text("", encoding="utf-8")
    assert violations(package) == [
        "kb/records/load.py:6: kb.records.load imports kb.render, a later step",
        "kb.unplaced is in no layer: add it to LAYERS",
    ]


def test_every_sub_package_says_what_it_takes_gives_and_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        for part in ("Takes:", "Gives:", "May import:"):
            assert part in docstring, f"{init.relative_to(PACKAGE.parent)} does not say {part}"


def test_the_readme_maps_every_sub_package() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        assert f"`kb/{init.parent.name}/`" in readme, init.parent.name
