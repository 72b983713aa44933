"""MkDocs the MkDocs way: mkdocs.yml declares every plugin the site needs, so plain
``mkdocs build`` gives the site ``make site`` gives, and ``mkdocs serve`` builds again when a
record changes."""

import inspect
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from mkdocs.plugins import BasePlugin

from kb.localization import config_loader
from kb.site import plugins as site_plugins
from kb.site import record_pages as mkdocs_site
from tests.conftest import DATA, site_files

pytestmark = pytest.mark.site

REPOSITORY = Path(__file__).resolve().parent.parent
MKDOCS = Path(sys.executable).with_name("mkdocs")


def _declared_plugins() -> list[str]:
    config = yaml.load((REPOSITORY / "mkdocs.yml").read_text(), Loader=config_loader())
    return [next(iter(item)) if isinstance(item, dict) else item for item in config["plugins"]]


def test_mkdocs_yml_declares_every_plugin_of_the_package() -> None:
    """Every MkDocs plugin the package defines is installed as an entry point under the name
    mkdocs.yml gives it, so none has to be added by a script for the site to come out right."""
    defined = {
        f"{module.__name__}:{name}"
        for module in (site_plugins, mkdocs_site)
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BasePlugin)
        and value.__module__ == module.__name__
    }
    installed = {
        point.name: point.value
        for point in entry_points(group="mkdocs.plugins")
        if point.name.startswith("kb/")
    }
    assert set(installed.values()) == defined
    declared = [name for name in _declared_plugins() if name.startswith("kb/")]
    assert sorted(declared) == sorted(installed)
    assert declared[0] == mkdocs_site.PLUGIN  # the pipeline stages the pages first


def _environment(root: Path) -> dict[str, str]:
    return {**os.environ, "KB_ROOT": str(root), "NO_MKDOCS_2_WARNING": "1"}


def test_plain_mkdocs_build_gives_the_site_make_site_gives(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(DATA / "tiny", root)
    ours, plain = tmp_path / "ours", tmp_path / "plain"
    subprocess.run(
        [sys.executable, "build_site.py", "--root", str(root), "--site", str(ours)],
        cwd=REPOSITORY,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [str(MKDOCS), "build", "--quiet", "--site-dir", str(plain)],
        cwd=REPOSITORY,
        env=_environment(root),
        check=True,
        capture_output=True,
    )
    built = site_files(ours)
    assert "studies/krause-2012/index.html" in built and "cy/index.html" in built
    assert site_files(plain) == built
    for site in (ours, plain):  # each language with its own search index
        assert (site / "pagefind" / "pagefind-entry.json").is_file()
        assert (site / "cy" / "pagefind" / "pagefind-entry.json").is_file()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _page(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8"))
    except OSError:
        return ""


def _wait_for(condition: str, url: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page = _page(url)
        if condition in page:
            return page
        time.sleep(0.5)
    raise AssertionError(f"{url} did not show {condition!r} within {seconds:.0f} s")


def test_mkdocs_serve_builds_again_when_a_record_changes(tmp_path: Path) -> None:
    """The preview, as a reviewer uses it: a saved record is on its English and Welsh pages,
    and the pages it does not touch are still served."""
    root = tmp_path / "kb"
    shutil.copytree(DATA / "tiny", root)
    port = _free_port()
    serving = subprocess.Popen(
        # --dirty, as `make serve`: each build renders only the pages whose Markdown changed.
        [str(MKDOCS), "serve", "--dirty", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=REPOSITORY,
        env=_environment(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page = f"http://127.0.0.1:{port}/studies/krause-2012/"
        assert "IZA Bonn" not in _wait_for("Krause", page, 120)
        study = root / "evidence" / "studies" / "krause-2012.yaml"
        study.write_text(study.read_text().replace("IZA\n", "IZA Bonn\n", 1), encoding="utf-8")
        _wait_for("IZA Bonn", page, 120)
        _wait_for("IZA Bonn", page.replace("/studies/", "/cy/studies/"), 60)
        kept = _page(f"http://127.0.0.1:{port}/recommendations/anonymise/")  # untouched, served
        assert "<h1" in kept and "anonymise" in kept
    finally:
        serving.terminate()
        serving.wait(timeout=30)
