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
