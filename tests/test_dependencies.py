"""The dependencies: the lock files `make site` and `make test` install from still satisfy the
ranges pyproject.toml declares (so nobody edits one and forgets `make lock`), and the tests
stand on their own, importing nothing from benchmarks/."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).parent.parent
PROJECT = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
# "name==version ; marker \" at the start of a line; hashes and comments follow on their own.
_PINNED = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$", re.M)


def _locked(lock: str) -> dict[str, Version]:
    """The version a lock file installs of each package, here (markers evaluated)."""
    text = (REPOSITORY / lock).read_text(encoding="utf-8")
    return {
        canonicalize_name(name): Version(version)
        for name, version, marker in _PINNED.findall(text)
        if not marker or Marker(marker).evaluate()
    }


@pytest.mark.parametrize(
    ("lock", "declared"),
    [
        ("requirements.lock", PROJECT["project"]["dependencies"]),
        (
            "requirements-dev.lock",
            PROJECT["project"]["dependencies"] + PROJECT["dependency-groups"]["dev"],
        ),
    ],
)
def test_lock_satisfies_the_declared_ranges(lock: str, declared: list[str]) -> None:
    locked = _locked(lock)
    for requirement in map(Requirement, declared):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in {lock}: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock} has {name} {locked[name]}, outside {requirement.specifier}: run `make lock`"
        )


def test_every_locked_package_is_pinned_with_hashes() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (REPOSITORY / lock).read_text(encoding="utf-8")
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        for entry in entries:
            assert "--hash=sha256:" in entry, f"{lock}: no hash for {entry.split()[0]}"


def test_tests_import_nothing_from_benchmarks() -> None:
    for path in sorted((REPOSITORY / "tests").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+benchmarks\b", text, re.M), (
            f"{path.name} imports from benchmarks/: move what it needs into tests/ or kb/"
        )
