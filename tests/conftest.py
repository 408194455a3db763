"""Shared test setup: the repository on sys.path (``solutions`` is imported as a package),
and fixtures for reference solutions assembled from their parts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings
from paths import REPO

from autograder.spec import load_assignment

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def extended_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extended track's full reference (its own code and what it takes from
    solutions/modules.py), written once as a gradable file."""
    path = tmp_path_factory.mktemp("reference") / "extended.py"
    path.write_text(load_assignment("extended").solution_text())
    return path


# Property tests are reproducible (the same examples every run) and not timed: under
# pytest-xdist on a loaded machine a deadline would fail at random.
settings.register_profile("nngrade", derandomize=True, deadline=None, database=None,
                          max_examples=50)
settings.load_profile("nngrade")
