"""Scenario values as the text a user types, and scenario files read and written as TOML.

A field shows exactly what the file holds (``"10 mF"`` stays ``10 mF``, ``0.01`` stays ``0.01``) and
the text goes back to the same TOML value, so a file opened and saved again loads to the same node.
Files are written with ``tomli_w`` from the scenario dict; they are read with the scenario loader's
own parser, so syntax errors read exactly as ``sysim run`` reports them.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import tomli_w

from sysim.errors import ScenarioError
from sysim.scenario.loader import MAX_FILE_BYTES, parse_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class _Missing:
    """The key is absent (an empty field): the preset or the table's default applies."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()

_NUMBER = re.compile(r"^[+-]?(\d[\d_]*)(\.\d[\d_]*)?([eE][+-]?\d+)?$|^[+-]?\.\d+([eE][+-]?\d+)?$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def value_to_text(value: Any) -> str:
    """The text a field shows for a TOML value (inverse of :func:`text_to_value`)."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return inline_toml(value)


def text_to_value(text: str, kind: str) -> Any:
    """The TOML value for what the user typed into a field of ``kind`` (see schema_info.FieldSpec).

    Quantities: a plain number is SI (a TOML number); anything else is a string with a unit.
    Text and file names are strings. Other kinds are read as an inline TOML value (``[1, 2]``,
    ``{ a = 1 }``, ``true``, ``2``) and fall back to the string itself, so the validator, not the
    GUI, tells the user what is wrong with it.
    """
    stripped = text.strip()
    if not stripped:
        return MISSING
    if kind == "quantity":
        return _number(stripped) if _NUMBER.match(stripped) else stripped
    if kind in ("text", "file", "choice"):
        return stripped
    try:
        return parse_inline(stripped)
    except ValueError:
        return stripped


def _number(text: str) -> int | float:
    cleaned = text.replace("_", "")
    try:
        return int(cleaned)
    except ValueError:
        return float(cleaned)


def parse_inline(text: str) -> Any:
    """Read one inline TOML value; ValueError if it is not one."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


def inline_toml(value: Any) -> str:
    """``value`` written as an inline TOML value (arrays and inline tables on one line)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time, str)):
        return tomli_w.dumps({"v": value})[len("v = "):].strip()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(inline_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ", ".join(f"{_key(k)} = {inline_toml(v)}" for k, v in value.items())
        return "{ " + items + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _key(key: Any) -> str:
    key = str(key)
    return key if _BARE_KEY.match(key) else tomli_w.dumps({"v": key})[len("v = "):].strip()


def dumps_scenario(data: dict) -> str:
    """A scenario dict as TOML text (top-level scalars first, then tables, then arrays of tables)."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, (dict, list))}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in data.items() if isinstance(v, list)}
    return tomli_w.dumps({**scalars, **tables, **arrays})


def write_scenario(path: str | os.PathLike, data: dict) -> Path:
    """Write ``data`` to ``path`` atomically (a crash never leaves half a file)."""
    from sysim.fileio import write_text

    write_text(path, dumps_scenario(data))
    return Path(path)


def read_scenario(path: str | os.PathLike) -> dict:
    """Read a scenario file into dicts without validating it (the panel shows what is wrong);
    unreadable files and TOML syntax errors raise ScenarioError like ``sysim.load``."""
    source = os.fspath(path)
    file = Path(source)
    if not file.is_file():
        raise ScenarioError(source, None, "file not found" if not file.exists() else "not a file")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ScenarioError(source, None, f"cannot read the file ({exc.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(source, None, f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, None, f"not UTF-8 text (byte {exc.start})") from None
    return parse_toml(text, source)
