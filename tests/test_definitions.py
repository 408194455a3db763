"""A slow cell's definitions alone (autograder/definitions.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from autograder.definitions import definitions_only

CELL = '''import numpy as np
from scipy.special import erf

class ReLU(Module):
    def updateOutput(self, input):
        return np.maximum(input, 0)

EPS = 1e-8
Sequential2 = Sequential
weights = np.random.randn(3)
for epoch in range(100):
    train(net)

@functools.cache
def helper(x):
    return x
try:
    import tqdm
except ImportError:
    tqdm = None
print("done")
'''


def test_definitions_are_kept_in_place_and_the_rest_is_blank():
    found = definitions_only(CELL)
    assert found.names == ("ReLU", "helper")
    kept = found.code.split("\n")
    original = CELL.split("\n")
    assert len(kept) == len(original)  # line numbers match the student's cell
    for number, line in enumerate(original):
        dropped = line.startswith(("weights", "for", "    train", "print"))
        assert kept[number] == ("" if dropped else line), (number, line)


def test_a_cell_without_definitions_or_that_does_not_parse_gives_nothing():
    assert definitions_only("for i in range(10):\n    train()\n").code == ""
    assert definitions_only("class A(:\n").code == ""
    assert definitions_only("if __name__ == '__main__':\n    class A: pass\n").code == ""


@given(st.text(max_size=200))
def test_any_text_gives_code_that_compiles_or_nothing(text):
    code = definitions_only(text).code
    if code:
        compile(code, "<cell>", "exec")


def test_the_prefix_before_the_first_loop_or_call_can_be_kept():
    """A helper made by a call above the class that uses it (the second notebook round's
    N3: logaddexp0 = partial(np.logaddexp, 0)) stays when the prefix is kept."""
    cell = ("import numpy as np\nfrom functools import partial\n"
            "logaddexp0 = partial(np.logaddexp, 0)\nclass SoftPlus:\n    pass\n"
            "while True:\n    pass\nlate = partial(np.add, 1)\n")
    generous = definitions_only(cell, keep_prefix=True).code.split("\n")
    strict = definitions_only(cell).code.split("\n")
    assert generous[2] == "logaddexp0 = partial(np.logaddexp, 0)" and strict[2] == ""
    assert generous[5] == generous[7] == ""  # the loop and what follows it with a call
