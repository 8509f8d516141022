"""Errors a user can act on: they name the file, the key path and the reason (exit code 2)."""
from __future__ import annotations


class ScenarioError(Exception):
    """A mistake in a scenario (or sweep, or trace) file.

    ``str(error)`` is one line: ``"<file>: <key>: <reason>"`` (the key is omitted when the
    mistake is not about one key, e.g. a TOML syntax error).
    """

    def __init__(self, file: str | None, key: str | None, reason: str):
        self.file, self.key, self.reason = file, key, reason
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        reason = " ".join(str(self.reason).split())  # always one line
        return ": ".join(parts + [reason])


class InputFileError(ScenarioError):
    """A data file referenced by a scenario (trace, weather, firmware) is missing or malformed;
    ``key`` names the line when the problem is inside the file (``"line 12"``)."""


def not_utf8(path) -> InputFileError:
    """The error for a data file that is not UTF-8 text, naming the line of its first bad byte
    (a text-mode reader only knows the 8 kB block it was decoding, often not even the right line)."""
    line, rest = 1, b""
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                piece = rest + chunk
                cut = piece.rfind(b"\n") + 1
                head, rest = piece[:cut], piece[cut:]
                try:
                    head.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return _bad_byte(path, line + head.count(b"\n", 0, exc.start), head[exc.start])
                line += head.count(b"\n")
            rest.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _bad_byte(path, line, rest[exc.start])
    except OSError:
        pass
    return InputFileError(str(path), None, "not UTF-8 text")


def _bad_byte(path, line: int, byte: int) -> InputFileError:
    return InputFileError(str(path), f"line {line}", f"not UTF-8 text (byte 0x{byte:02x})")
