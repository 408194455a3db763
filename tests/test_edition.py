"""The 2025-2026 edition (assignments/edition-2025, solutions/edition_2025.py): the reference
and the correct variants of tests/corpus/edition_2025_variants.py get full marks, every buggy
submission of tests/corpus/edition_2025_bugs.py loses points in its own component only, and
the reference passes the end-to-end MNIST check trained by the grader's own Adam.
"""

from __future__ import annotations

import pytest
from corpus import EDITION
from corpus.edition_2025_bugs import BUGS
from corpus.edition_2025_variants import VARIANTS
from corpus.grading import diagnosed, failures, grade_entries, losers

from autograder.grade import Grader
from autograder.spec import load_assignment
from autograder.submission import load_submission

NEW = {"Gelu", "Conv2d", "MaxPool2d", "AvgPool2d", "GlobalAvgPool2d", "GlobalMaxPool2d",
       "Flatten"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("reference") / "edition_2025.py"
    path.write_text(EDITION.text())
    return path








def test_the_edition_extends_the_classic():
    edition, classic = load_assignment("edition-2025"), load_assignment("classic")
    assert classic.name == "modules" and edition.extends == "modules"
    names = [c.name for c in edition.components]
    assert NEW <= set(names)
    assert not {"sgd_momentum", "adam_optimizer"} & set(names)
    assert edition.component("Linear") == classic.component("Linear")  # inherited as is
    conv = edition.component("Conv2d")
    assert {c.kind for c in conv.checks} == {"forward", "input_grad", "no_mutation",
                                             "repeated", "pass"}
    assert edition.mnist["optimizer"] == "grader:adam"
    assert edition.tolerance == classic.tolerance


def test_reference_full_marks_and_each_bug_costs_only_its_component(tmp_path, reference):
    """One grading per submission, two at a time (mnist=False)."""
    assignment = load_assignment("edition-2025")
    assert len(BUGS) >= 30 and len(VARIANTS) >= 6
    assert sum(b.component in NEW for b in BUGS) >= 25
    results = grade_entries(EDITION, assignment, reference, [*VARIANTS, *BUGS], tmp_path)
    for name in ["reference", *(v.id for v in VARIANTS)]:
        assert failures(results[name]) == [], name
        assert results[name].notes == [], name
    wrong = {b.id: sorted(losers(results[b.id])) for b in BUGS
             if losers(results[b.id]) != {b.component}}
    assert wrong == {}, "bugs not caught, or blamed on other components"
    assert [b.id for b in BUGS if not diagnosed(b, results[b.id])] == []


def test_corpus_patches_apply_exactly_once():
    texts = {e.id: EDITION.build(e) for e in [*BUGS, *VARIANTS]}
    assert len(set(texts.values())) == len(texts) == len(BUGS) + len(VARIANTS)
    assert all(text != EDITION.text() for text in texts.values())


@pytest.mark.slow
def test_reference_passes_the_mnist_check_with_the_graders_adam(reference):
    result = Grader(load_assignment("edition-2025")).grade(load_submission(reference),
                                                           only=["MNIST"])
    mnist = result.components[-1]
    assert mnist.name == "MNIST" and mnist.score == mnist.max_score, mnist.checks[0].message
    assert mnist.extra["accuracy"] >= mnist.extra["threshold"]
