"""A reply whose JSON is large: the red team's ``[[[]]] * 10_000_000`` (60 MB of JSON, about
50 times that once decoded) took the grader to 3.3 GiB. The grader refuses a reply with more
than ``Limits.reply_json_bytes`` (2 MiB) of JSON before decoding it; 3 MB of short lists
here, quick for the worker to send (the nested lists take seconds to encode on a loaded
machine, past the corpus's check timeout)."""

_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        self.output = [["x" * 1000]] * 3000
        return self.output
