"""Batch grading for instructors: ``nngrade grade-batch`` (see docs/batch.md).

``run_batch(source, out, BatchOptions(...))`` grades every submission under ``source`` into
``out``: ``grades.csv``, ``results/<id>.json``, ``feedback/<id>.md`` and ``report.html``.
"""

from autograder.batch.runner import BatchOptions, BatchSummary, run_batch

__all__ = ["BatchOptions", "BatchSummary", "run_batch"]
