"""The synthetic generator (`python -m benchmarks.synth`): a valid knowledge base, the same
bytes for the same seed. The benchmark tooling's own tests, beside it: the tests in tests/
import nothing from benchmarks/ (`make test` runs both)."""

import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from benchmarks.synth import (
    Corpus,
    OutputNotEmpty,
    _Draw,
    corpus_from,
    link_counts,
    main,
    synthesise,
)
from kb import pipeline
from kb.records.read import check
from kb.records.vocabularies import RecommendationKind, Strength, StudyType
from tests.conftest import DATA, REPOSITORY, run_kb


def run_synth(*args: str | int | Path) -> Result:
    """The generator's command line, in-process."""
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


pytestmark = pytest.mark.cli


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "kb"
    result = run_synth(
        "--studies", 60, "--recommendations", 20, "--links", 150, "--seed", 7,
        "--like", REPOSITORY, root,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return root


def test_output_passes_check(synthetic: Path) -> None:
    result = run_kb("check", "--root", synthetic)
    assert result.exit_code == 0
    assert result.output == (
        "ok: 1 sources, 5 themes, 20 recommendations, 60 studies, 10 examples, 4 figures, "
        "150 evidence links; 0 errors, 0 warnings\n"
    )


def test_counts_are_as_asked(synthetic: Path) -> None:
    kb, problems = check(pipeline.Paths.for_root(synthetic))
    assert problems == []
    assert len(kb.studies) == 60
    assert len(kb.recommendations) == 20
    assert sum(1 for _ in kb.findings()) == 150


def test_every_type_and_level_appears(synthetic: Path) -> None:
    kb, _ = check(pipeline.Paths.for_root(synthetic))
    assert {study.type for study in kb.studies.values()} == set(StudyType) - {"unclassified"}
    assert {finding.strength for _, _, finding in kb.findings()} == set(Strength)
    assert {rec.kind for rec in kb.recommendations.values()} == set(RecommendationKind)
    judged = {
        rec.evidence_judgement.level
        for rec in kb.recommendations.values()
        if rec.evidence_judgement
    }
    assert judged == set(Strength)
    assert kb.sources and kb.themes and kb.examples and kb.figures


def test_same_seed_gives_identical_files(synthetic: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    run_synth(
        "--studies", 60, "--recommendations", 20, "--links", 150, "--seed", 7,
        "--like", REPOSITORY, again,
    )  # fmt: skip
    assert _files(again) == _files(synthetic)


def test_other_seed_gives_other_files(synthetic: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    synthesise(other, studies=60, recommendations=20, links=150, seed=8, like=REPOSITORY)
    assert _files(other) != _files(synthetic)


def test_link_counts_are_skewed() -> None:
    counts = link_counts(_Draw(42, Corpus(words=["a"])), 5000, 15000, 60)
    assert sum(counts) == 15000
    assert min(counts) == 1
    histogram = Counter(counts)
    assert histogram[1] > 2000  # most studies have one link
    assert max(counts) >= 40  # and a few are hubs


def test_vocabulary_comes_from_the_real_records() -> None:
    corpus = corpus_from(REPOSITORY)
    assert corpus.records > 100
    assert "ethnic" in corpus.words
    assert corpus.lengths["finding.quote"]


def test_built_in_words_without_real_records(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    result = synthesise(root, studies=30, recommendations=8, seed=1, like=tmp_path / "none")
    assert result.sample_records == 0
    assert result.links == 90
    assert run_kb("check", "--root", root).exit_code == 0


def test_refuses_a_folder_with_records(tmp_path: Path) -> None:
    tiny_kb = tmp_path / "kb"
    shutil.copytree(DATA / "tiny", tiny_kb)
    with pytest.raises(OutputNotEmpty):
        synthesise(tiny_kb, studies=5, recommendations=2)
    result = run_synth("--studies", 5, tiny_kb)
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.output


def test_a_drawn_note_never_gives_another_design_as_the_reason_for_a_level() -> None:
    from benchmarks.synth import _without_other_design
    from kb.records.validate import design_given_as_reason

    note = "Policy guidance, hence S1."
    assert design_given_as_reason(note, StudyType.RANDOMISED_TRIAL) == StudyType.POLICY_GUIDANCE
    assert design_given_as_reason(note, StudyType.POLICY_GUIDANCE) is None
    _, _, link = next(check(pipeline.Paths.for_root(REPOSITORY))[0].findings())
    noted = link.model_copy(update={"note": note})
    assert _without_other_design(noted, StudyType.RANDOMISED_TRIAL).note is None
    assert _without_other_design(noted, StudyType.POLICY_GUIDANCE).note == note
