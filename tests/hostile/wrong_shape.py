"""Not hostile: Flatten returns a 1-d array and a transposed gradient."""

_HonestFlatten = Flatten  # noqa: F821


class Flatten(_HonestFlatten):
    def updateOutput(self, input):
        self.output = input.reshape(-1)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.T
        return self.gradInput
