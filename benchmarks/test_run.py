"""The benchmark's growth fit (`benchmarks/run.py`): how a figure grows with the number of
studies, from the sizes measured so far; and how it runs and times each step."""

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import run

pytestmark = pytest.mark.unit


def figures(size: int, check_s: float, mkdocs_s: float | None) -> dict[str, object]:
    steps: dict[str, object] = {"check": {"s": check_s, "peak_rss_mb": size / 100}}
    if mkdocs_s is not None:
        steps["mkdocs"] = {"s": mkdocs_s, "peak_rss_mb": 200.0}
    return {"label": str(size), "steps": steps, "build_s": None}


def test_growth_finds_the_exponent_of_each_figure() -> None:
    """Time linear in N has exponent 1, time in N^1.5 has 1.5, each step and fitted; a figure
    missing at a size (a build cut short) is fitted from the sizes that have it."""
    sizes = [1000, 10_000, 30_000, 100_000]
    measured = [
        figures(size, check_s=0.002 * size, mkdocs_s=None if size == 100_000 else size**1.5 / 1e5)
        for size in sizes
    ]
    fitted = run.growth(measured)
    check = fitted["figures"]["check s"]
    assert check["exponent"] == pytest.approx(1.0)
    assert list(check["exponents"]) == ["1000→10000", "10000→30000", "30000→100000"]
    assert all(b == pytest.approx(1.0) for b in check["exponents"].values())
    assert check["at_ten_times"] == pytest.approx(0.002 * 1_000_000)
    mkdocs = fitted["figures"]["mkdocs s"]
    assert mkdocs["exponent"] == pytest.approx(1.5)
    # Predicted at ten times the largest size measured, though this figure stops short of it.
    assert mkdocs["at_ten_times"] == pytest.approx(1_000_000**1.5 / 1e5)
    assert list(mkdocs["values"]) == [1000, 10_000, 30_000]
    assert fitted["figures"]["mkdocs peak MB"]["exponent"] == pytest.approx(0.0, abs=1e-9)
    assert "build s (cold)" not in fitted["figures"]  # never measured
    table = run.growth_table(fitted, markdown=True)
    assert table.splitlines()[0].startswith("| | 1,000 | 10,000 | 30,000 | 100,000 |")
    assert "| check s | 2.0 | 20.0 | 60.0 | 200.0 | 1.00, 1.00, 1.00 | 1.00 | 2,000 |" in table


def test_growth_reads_every_size_measured_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sizes measured in separate runs add up; the real knowledge base is not a size."""
    monkeypatch.setattr(run, "SIZES_FOLDER", tmp_path)
    for size in (10_000, 1000):
        (tmp_path / f"{size}.json").write_text(json.dumps(figures(size, size / 100, None)))
    (tmp_path / "real.json").write_text(json.dumps({"label": "real"}))
    assert [found["label"] for found in run.measured_sizes()] == ["1000", "10000"]


def test_run_gives_the_exit_code_and_kills_a_child_at_its_deadline() -> None:
    finished = run.run([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert finished.returncode == 3
    stopped = run.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert stopped.returncode is None and stopped.seconds < 29


def test_a_rebuild_is_held_to_issue_18s_targets() -> None:
    """At 10,000 studies a rebuild may take a tenth of the cold build; on the real knowledge
    base, one second outside MkDocs."""
    synthetic: dict[str, Any] = {"label": "10000", "build_s": 200.0, "kb_s": 90.0}
    synthetic |= {"rebuild_s": 30.0, "rebuild_steps": {"mkdocs": 20.0}}
    run.derived(synthetic)
    found = run.targets(synthetic)
    assert found["rebuild after 1 change <= 10 % of cold build"] is False
    assert found["rebuild after 1 change < half cold build"] is True
    assert found["rebuild outside MkDocs <= 1 s on the real knowledge base"] is None
    real: dict[str, Any] = {"label": "real", "build_s": 8.0, "kb_s": 4.0}
    real |= {"rebuild_s": 2.5, "rebuild_steps": {"mkdocs": 1.7}}
    run.derived(real)
    assert run.targets(real)["rebuild outside MkDocs <= 1 s on the real knowledge base"] is True
    assert real["rebuild_outside_mkdocs_s"] == pytest.approx(0.8)
