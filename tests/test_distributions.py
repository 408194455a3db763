"""autograder.distributions: versions read from dist-info directories agree with
importlib.metadata, for the names the assignments and the reference cache use."""

from importlib.metadata import version

import pytest

from autograder.distributions import installed_version


@pytest.mark.parametrize("name", ["numpy", "scipy", "scikit-image", "torch"])
def test_agrees_with_importlib_metadata(name):
    assert installed_version(name) == version(name)


@pytest.mark.parametrize("spelling", ["Scikit-Image", "scikit_image", "scikit.image"])
def test_distribution_names_are_normalised(spelling):
    assert installed_version(spelling) == version("scikit-image")


def test_a_prefix_of_another_distribution_is_not_it():
    # scipy's dist-info must not answer for "sci", nor numpy's for "num"
    assert installed_version("sci") is None
    assert installed_version("num") is None


def test_missing_distribution_is_none():
    assert installed_version("no-such-distribution-nngrade") is None
