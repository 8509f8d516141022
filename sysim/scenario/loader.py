"""Reading and validating scenario files.

Every mistake becomes a :class:`sysim.errors.ScenarioError` naming the file, the key path
(``storage.branches[0].capacitance``) and the reason, in one line. Nothing is silently ignored:
unknown keys, wrong units, impossible values and missing files are all errors.
"""
from __future__ import annotations

import copy
import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sysim.errors import ScenarioError

from . import registry
from .schema import SimulationTable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MAX_FILE_BYTES = 20_000_000
TOP_LEVEL_KEYS = {"name", "description", "simulation", "storage", "harvester", "pmic", "load", "firmware"}


@dataclass
class Scenario:
    """A validated scenario: typed tables plus the raw data it came from."""

    name: str
    simulation: SimulationTable
    storage: Any
    harvesters: list[tuple[str, Any]] = field(default_factory=list)
    pmic: Any = None
    loads: list[tuple[str, Any]] = field(default_factory=list)
    firmware: Any = None
    description: str = ""
    source: str = "<scenario>"
    base_dir: str = "."
    data: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # tables registered by extensions

    def with_changes(self, changes: dict[str, Any]) -> "Scenario":
        """A new validated scenario with dotted keys replaced, e.g.
        ``{"storage.capacitance": "20 mF", "simulation.duration": "1 d", "load[0].period": "2 s"}``."""
        data = copy.deepcopy(self.data)
        for key, value in changes.items():
            set_key(data, key, value)
        return from_dict(data, source=self.source, base_dir=self.base_dir)


def set_key(data: dict, dotted: str, value: Any) -> None:
    """Set ``a.b[2].c`` in nested dicts/lists, creating tables as needed."""
    parts = _split_key(dotted)
    node = data
    for part, nxt in zip(parts, parts[1:]):
        if isinstance(part, int):
            node = node[part]
        else:
            if part not in node:
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
    last = parts[-1]
    node[last] = value


def _split_key(dotted: str) -> list:
    parts: list = []
    for chunk in dotted.split("."):
        while "[" in chunk:
            name, rest = chunk.split("[", 1)
            if name:
                parts.append(name)
            index, chunk = rest.split("]", 1)
            parts.append(int(index))
        if chunk:
            parts.append(chunk)
    return parts


def load(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario TOML file."""
    source = os.fspath(path)
    file = Path(source)
    if not file.exists():
        raise ScenarioError(source, None, "file not found")
    if not file.is_file():
        raise ScenarioError(source, None, "not a file")
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
    return loads(text, source=source, base_dir=str(file.resolve().parent))


def loads(text: str, source: str = "<string>", base_dir: str = ".") -> Scenario:
    """Validate a scenario given as TOML text."""
    return from_dict(parse_toml(text, source), source=source, base_dir=base_dir)


def parse_toml(text: str, source: str) -> dict:
    """TOML text to dicts; syntax errors (duplicated keys included) become ScenarioError."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        hint = "duplicated key or table: " if "overwrite" in str(exc).lower() else ""
        raise ScenarioError(source, None, f"TOML syntax error: {hint}{exc}") from None
    except RecursionError:
        raise ScenarioError(source, None, "TOML nesting is too deep") from None


def from_dict(data: dict, source: str = "<dict>", base_dir: str = ".") -> Scenario:
    """Validate a scenario given as nested dicts (as parsed from TOML)."""
    import sysim.components  # noqa: F401  (fills the registry)

    if not isinstance(data, dict):
        raise ScenarioError(source, None, "a scenario must be a table of keys")
    context = {"base_dir": base_dir, "source": source}
    known = TOP_LEVEL_KEYS | set(registry.TOP_LEVEL_TABLES)
    for key in data:
        if key not in known:
            raise ScenarioError(source, key, f"unknown key{_suggest(key, known)}")
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str):
        raise ScenarioError(source, "name", "must be a string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(source, "description", "must be a string")
    if "simulation" not in data:
        raise ScenarioError(source, "simulation", "missing required table [simulation]")
    simulation = validate(SimulationTable, _table(data, "simulation", source), source, "simulation", context)
    if "storage" not in data:
        raise ScenarioError(source, "storage", "missing required table [storage]")
    storage = resolve(_table(data, "storage", source), "storage", "model", registry.STORAGE_MODELS,
                      source, context)
    harvesters = _component_list(data, "harvester", registry.HARVESTERS, source, context)
    loads_ = _component_list(data, "load", registry.LOADS, source, context)
    seen: dict[str, str] = {}
    for kind, items in (("harvester", harvesters), ("load", loads_)):
        for i, (cname, _) in enumerate(items):
            if cname in seen:
                raise ScenarioError(source, f"{kind}[{i}].name", f"name {cname!r} is already used by a {seen[cname]}")
            seen[cname] = kind
    pmic = None
    if "pmic" in data:
        pmic = resolve(_table(data, "pmic", source), "pmic", "model", registry.PMICS, source, context)
    firmware = None
    if "firmware" in data:
        if registry.FIRMWARE_TABLE is None:
            raise ScenarioError(source, "firmware", "the firmware bridge is not installed")
        firmware = validate(registry.FIRMWARE_TABLE, _table(data, "firmware", source), source, "firmware", context)
    extra = {key: validate(table, _table(data, key, source), source, key, context)
             for key, table in registry.TOP_LEVEL_TABLES.items() if key in data}
    scenario = Scenario(name, simulation, storage, harvesters, pmic, loads_, firmware, description, source,
                        base_dir, copy.deepcopy(data), extra)
    for check in registry.SCENARIO_CHECKS:
        try:
            check(scenario)
        except ScenarioError as exc:
            raise ScenarioError(source, exc.key, exc.reason) from None
    return scenario


def _table(data: dict, key: str, source: str) -> dict:
    value = data[key]
    if not isinstance(value, dict):
        raise ScenarioError(source, key, f"must be a table ([{key}]), got {type(value).__name__}")
    return value


def _component_list(data, key, table_registry, source, context) -> list[tuple[str, Any]]:
    items = data.get(key, [])
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ScenarioError(source, key, f"must be an array of tables ([[{key}]])")
    out = []
    for i, item in enumerate(items):
        path = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise ScenarioError(source, path, "must be a table")
        table = resolve(item, path, "type", table_registry, source, context)
        name = getattr(table, "name", None) or f"{table.type}{i}"
        out.append((name, table))
    return out


def resolve(data: dict, path: str, selector: str, table_registry: dict, source: str, context: dict):
    """Merge a ``preset`` under the explicit keys, pick the table class by ``selector``
    (``model`` or ``type``) and validate."""
    merged = dict(data)
    preset_name = data.get("preset")
    if preset_name is not None:
        if not isinstance(preset_name, str):
            raise ScenarioError(source, f"{path}.preset", "must be a string")
        preset = registry.PRESETS.get(preset_name)
        if preset is None:
            names = [p.name for p in registry.PRESETS.values()]
            raise ScenarioError(source, f"{path}.preset", f"unknown preset {preset_name!r}{_suggest(preset_name, names)}")
        merged = {**preset.values, **data}
    chosen = merged.get(selector)
    if chosen is None:
        # A load or harvester ``type`` may itself be a preset name (e.g. type = "nrf52-ble-adv").
        raise ScenarioError(source, f"{path}.{selector}", f"missing; give {selector} or preset "
                            f"(known {selector}s: {', '.join(sorted(table_registry))})")
    if not isinstance(chosen, str):
        raise ScenarioError(source, f"{path}.{selector}", "must be a string")
    table_cls = table_registry.get(chosen)
    if table_cls is None:
        preset = registry.PRESETS.get(chosen)
        if preset is not None and preset.values.get(selector) in table_registry and preset_name is None:
            merged = {**preset.values, **{k: v for k, v in data.items() if k != selector}, "preset": chosen}
            table_cls = table_registry[preset.values[selector]]
        else:
            raise ScenarioError(source, f"{path}.{selector}",
                                f"unknown {selector} {chosen!r}{_suggest(chosen, list(table_registry))}")
    return validate(table_cls, merged, source, path, context)


def validate(table_cls, data: dict, source: str, path: str, context: dict | None = None):
    try:
        return table_cls.model_validate(data, context=context or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _key_path(path, first.get("loc", ()))
        reason = _reason(first)
        more = len(exc.errors()) - 1
        if more:
            reason += f" (and {more} more problem{'s' if more > 1 else ''} in [{path}])"
        raise ScenarioError(source, key, reason) from None
    except RecursionError:
        raise ScenarioError(source, path, "nesting is too deep") from None


def _key_path(prefix: str, loc: tuple) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "").isalnum():
            out += f".{part}"
        # parts like "function-before[...]" or "tuple[...]" name pydantic internals, not keys
    return out


def _reason(error: dict) -> str:
    kind, msg = error.get("type", ""), error.get("msg", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing required key"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, "):]
    value = error.get("input")
    if kind.endswith("_type") or kind.startswith("literal") or kind.endswith("_parsing"):
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"{msg} (got {shown})"
    return msg


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=3)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
