"""nngrade: autograder for 'neural networks from scratch' courses."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nngrade")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
