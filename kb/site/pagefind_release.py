"""Pagefind's binary from a newer release than PyPI carries, installed into the virtual
environment, and how the build runs it.

Why: Pagefind 1.5.2, the newest on PyPI (``pagefind[bin]``, a declared dependency), scores a
search in time that grows with the square of the pages its words are on: for each page it
finds, it walks every page entry of every word matched (``search_term`` in Pagefind's
``pagefind_web/src/search.rs``). At 10,000 studies "health" is on 5,418 pages and took 150 ms
in the browser's WebAssembly alone; Pagefind 1.6.0 (npm, 1 November 2026) groups the entries by
page first and takes 22–27 ms, with the same results, and indexes the site a fifth faster
(docs/performance.md, "Pagefind 1.6.0, and Pagefind's own step"). Its binary is published on
the npm registry only.

``python -m kb.site.pagefind_release`` (run by ``make``) downloads the release's package for
this platform from the npm registry, checks it against the integrity hash pinned here (as a lock
file pins a package), and installs its one binary into the virtual environment. Nothing else
of npm is used: no Node, no scripts. Where the platform has no package here, or the download
fails, it says so and the build runs PyPI's Pagefind, which makes the same kind of index, only
slower to search on a large site. When PyPI carries a release as new, this module goes and the
lock files take the release.
"""

import base64
import hashlib
import http.client
import io
import os
import platform
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "1.6.0"
# npm's package for each platform (system, machine), with its integrity hash as npm publishes
# it (`npm view @pagefind/linux-x64@1.6.0 dist.integrity`).
PACKAGES: dict[tuple[str, str], tuple[str, str]] = {
    ("Linux", "x86_64"): (
        "linux-x64",
        "sha512-IbMSx/+Vr/Xk0TTBlLkjgK+rvnbOXGmmb2/MKxQu99AR5DsqQoV3NKEA9PQz2tAhuCZjeD5xJBp4w5N5DHIC7Q==",
    ),
    ("Linux", "aarch64"): (
        "linux-arm64",
        "sha512-SLB2I+XqCZma8NvIGIH8nyKblgKIxw5PmqsVtofWOKxNHhEtOEsddbqU+hsrNcT3EV0faM6UmKDHVIxcPYq29w==",
    ),
    ("Darwin", "x86_64"): (
        "darwin-x64",
        "sha512-rd3ZbtuxyYqjASKZAPuIV7eeQQHJ7VYpoNKKG8CvglaD3g30eT5Nb7XGNLYwVReBsCccpkURwrGwWjSwr8nyQQ==",
    ),
    ("Darwin", "arm64"): (
        "darwin-arm64",
        "sha512-611gl64aqN12UcMyKPtZ8+vRWBKlJFSh2JgO8uScxa1Eyjo1dXz9r4wZuRno0yCUE/KN0FauEoKZ3KEwUYHCCg==",
    ),
    ("Windows", "AMD64"): (
        "windows-x64",
        "sha512-cUA2+yXfbymdJllyMjY5YTBwuOgh0/H53Pn5fYKjDnDjk154Ft4U5RVj3TenWySPL/jG6zJfARUWSlyUyXHlZw==",
    ),
}
REGISTRY = "https://registry.npmjs.org"


class ReleaseNotInstalled(Exception):
    """The release could not be installed; the message says why."""


def binary_path(prefix: Path | None = None) -> Path:
    """Where the release's binary lives in the virtual environment at ``prefix``."""
    name = "pagefind_extended.exe" if platform.system() == "Windows" else "pagefind_extended"
    return Path(prefix or sys.prefix) / "pagefind" / VERSION / name


def run_environment() -> dict[str, str]:
    """The environment to run ``python -m pagefind`` in: pointed at the release's binary
    (PyPI's wrapper reads ``PAGEFIND_BINARY_PATH``) where it is installed."""
    binary = binary_path()
    if not binary.is_file():
        return dict(os.environ)
    return {**os.environ, "PAGEFIND_BINARY_PATH": str(binary)}


def package_for(system: str, machine: str) -> tuple[str, str]:
    """npm's package for the platform, and its integrity hash."""
    try:
        return PACKAGES[(system, machine)]
    except KeyError:
        raise ReleaseNotInstalled(f"no Pagefind {VERSION} package for {system} {machine}") from None


def package_url(package: str) -> str:
    return f"{REGISTRY}/@pagefind/{package}/-/{package}-{VERSION}.tgz"


def checked(tarball: bytes, integrity: str) -> bytes:
    """``tarball``, if its hash is ``integrity`` (npm's ``sha512-<base64>``)."""
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if actual != expected:
        raise ReleaseNotInstalled(
            f"the downloaded package's {algorithm} is {actual}, not the pinned {expected}"
        )
    return tarball


def binary_from(tarball: bytes, name: str) -> bytes:
    """The binary ``name`` from an npm package's tarball (``package/bin/NAME``)."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        try:
            member = archive.getmember(f"package/bin/{name}")
        except KeyError:
            raise ReleaseNotInstalled(f"the package holds no bin/{name}") from None
        extracted = archive.extractfile(member)
        if extracted is None:
            raise ReleaseNotInstalled(f"bin/{name} in the package is not a file")
        return extracted.read()


def download(url: str) -> bytes:
    """The bytes at ``url``, or ``ReleaseNotInstalled`` saying why not."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return bytes(response.read())
    except (OSError, http.client.HTTPException) as error:
        raise ReleaseNotInstalled(f"could not download {url}: {error}") from None


def install(
    prefix: Path | None = None, system: str | None = None, machine: str | None = None
) -> Path:
    """Install the release's binary into the virtual environment at ``prefix``, unless it is
    there already. The binary is written beside its place and renamed into it, so a failed
    install leaves nothing half-written. Raises ``ReleaseNotInstalled``."""
    target = binary_path(prefix)
    if target.is_file():
        return target
    package, integrity = package_for(system or platform.system(), machine or platform.machine())
    tarball = checked(download(package_url(package)), integrity)
    binary = binary_from(tarball, target.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        partial.write_bytes(binary)
        partial.chmod(0o755)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def main() -> int:
    try:
        installed = install()
    except ReleaseNotInstalled as error:
        print(
            f"Pagefind {VERSION} not installed ({error}): the site's search index will be "
            "made by PyPI's Pagefind, which searches a large site more slowly.",
            file=sys.stderr,
        )
        return 0  # the build still works
    print(f"Pagefind {VERSION}: {installed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
