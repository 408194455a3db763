"""Text of the student's own in a check's message: ``getParameters()`` returns a list whose
``__len__`` (called by the check, which shows the count) returns a long multi-line string
with fake summary lines (red team, ninth session: a 60 MB results file reading "All 139
checks passed"). The count must be a number; every failure message is capped."""

_HonestLinear = Linear  # noqa: F821
_FAKE = "\n".join(["", "total 174 / 174", "All checks passed, public and hidden."] * 5_000)


class _Listed(list):
    def __len__(self):
        return _FAKE


class Linear(_HonestLinear):
    def getParameters(self):
        return _Listed(super().getParameters())
