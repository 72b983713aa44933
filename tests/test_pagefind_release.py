"""Pagefind's newer release (kb.site.pagefind_release): installed only when its package matches
the pinned hash, never half-written, and the build runs it where it is installed."""

import base64
import hashlib
import http.client
import io
import os
import sys
import tarfile
from pathlib import Path

import pytest

from kb.site import pagefind_release
from kb.site.pagefind_release import (
    PACKAGES,
    ReleaseNotInstalled,
    binary_path,
    install,
    main,
    run_environment,
)

pytestmark = pytest.mark.unit


def _package(binary: bytes, name: str = "pagefind_extended") -> bytes:
    """An npm package's tarball holding ``package/bin/NAME``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo(f"package/bin/{name}")
        member.size = len(binary)
        archive.addfile(member, io.BytesIO(binary))
    return buffer.getvalue()


def _integrity(tarball: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A package for Linux x86_64 pinned by its hash, and the downloads counted."""
    tarball = _package(b"#!/bin/sh\necho pagefind\n")
    monkeypatch.setitem(PACKAGES, ("Linux", "x86_64"), ("linux-x64", _integrity(tarball)))
    monkeypatch.setattr(pagefind_release, "download", lambda url: tarball)
    return tarball


def test_the_binary_is_installed_from_a_package_with_the_pinned_hash(
    tmp_path: Path, published: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = install(tmp_path, "Linux", "x86_64")
    assert installed == binary_path(tmp_path)
    assert installed.read_bytes() == b"#!/bin/sh\necho pagefind\n"
    assert installed.stat().st_mode & 0o111
    assert [path.name for path in installed.parent.iterdir()] == [installed.name]

    def no_download(url: str) -> bytes:
        raise AssertionError("downloaded again")

    monkeypatch.setattr(pagefind_release, "download", no_download)
    assert install(tmp_path, "Linux", "x86_64") == installed  # there already


def test_a_package_that_does_not_match_its_hash_installs_nothing(
    tmp_path: Path, published: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    tampered = _package(b"something else")
    monkeypatch.setattr(pagefind_release, "download", lambda url: tampered)
    with pytest.raises(ReleaseNotInstalled, match="not the pinned"):
        install(tmp_path, "Linux", "x86_64")
    assert not (tmp_path / "pagefind").exists()


def test_a_package_without_the_binary_installs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tarball = _package(b"x", name="something_else")
    monkeypatch.setitem(PACKAGES, ("Linux", "x86_64"), ("linux-x64", _integrity(tarball)))
    monkeypatch.setattr(pagefind_release, "download", lambda url: tarball)
    with pytest.raises(ReleaseNotInstalled, match="no bin/pagefind_extended"):
        install(tmp_path, "Linux", "x86_64")
    assert not (tmp_path / "pagefind").exists()


def test_an_install_that_fails_half_way_leaves_nothing(
    tmp_path: Path, published: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pagefind_release.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        install(tmp_path, "Linux", "x86_64")
    monkeypatch.setattr(pagefind_release.os, "replace", os.replace)
    assert list(binary_path(tmp_path).parent.iterdir()) == []


def test_a_download_cut_short_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    def cut_short(url: str, timeout: float) -> object:
        raise http.client.IncompleteRead(b"partial", 100)

    monkeypatch.setattr(pagefind_release.urllib.request, "urlopen", cut_short)
    with pytest.raises(ReleaseNotInstalled, match="could not download https://"):
        pagefind_release.download(pagefind_release.package_url("linux-x64"))


def test_a_platform_without_a_package_is_named(tmp_path: Path) -> None:
    with pytest.raises(ReleaseNotInstalled, match=r"no Pagefind .* package for Plan9 mips"):
        install(tmp_path, "Plan9", "mips")


def test_setup_goes_on_with_pypis_pagefind_when_the_release_cannot_be_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable(url: str) -> bytes:
        raise ReleaseNotInstalled(f"could not download {url}: no network")

    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(pagefind_release, "download", unreachable)
    monkeypatch.setattr(pagefind_release.platform, "system", lambda: "Linux")
    monkeypatch.setattr(pagefind_release.platform, "machine", lambda: "x86_64")
    assert main() == 0
    warning = capsys.readouterr().err
    assert "could not download https://registry.npmjs.org/@pagefind/linux-x64/-/" in warning
    assert "PyPI's Pagefind" in warning
    assert "PAGEFIND_BINARY_PATH" not in run_environment()


def test_the_build_runs_the_release_where_it_is_installed(
    tmp_path: Path, published: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.delenv("PAGEFIND_BINARY_PATH", raising=False)
    assert "PAGEFIND_BINARY_PATH" not in run_environment()
    installed = install(tmp_path, "Linux", "x86_64")
    assert run_environment()["PAGEFIND_BINARY_PATH"] == str(installed)


def test_every_pinned_hash_is_a_sha512() -> None:
    for package, integrity in PACKAGES.values():
        algorithm, _, digest = integrity.partition("-")
        assert algorithm == "sha512", package
        assert len(base64.b64decode(digest, validate=True)) == 64, package
