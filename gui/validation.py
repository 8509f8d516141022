"""Validate the scenario the panel holds with the loader's own functions.

Each table is checked with the very call ``sysim.from_dict`` makes for it (so every message is the
one ``sysim run`` would print for the same file), which lets the panel show a problem in every
table at once; ``sysim.from_dict`` itself then runs (top-level keys, cross-table checks) and returns
the :class:`sysim.Scenario` to run.
"""
from __future__ import annotations

import re

from sysim.errors import ScenarioError
from sysim.scenario import loader, registry
from sysim.scenario.loader import Scenario
from sysim.scenario.schema import SimulationTable

_INDEXED = re.compile(r"^([A-Za-z_]+)\[(\d+)\](.*)$")


def check(data: dict, source: str = "<gui>", base_dir: str = ".") -> tuple[Scenario | None, list[ScenarioError]]:
    """``(scenario, [])`` when ``data`` is a valid scenario, else ``(None, errors)``."""
    import sysim.components  # noqa: F401  (fills the registry)

    context = {"base_dir": base_dir, "source": source}
    errors: list[ScenarioError] = []

    def attempt(fn, *args):
        try:
            fn(*args)
        except ScenarioError as exc:
            errors.append(exc)

    if isinstance(data.get("simulation"), dict):
        attempt(loader.validate, SimulationTable, data["simulation"], source, "simulation", context)
    if isinstance(data.get("storage"), dict):
        attempt(loader.resolve, data["storage"], "storage", "model", registry.STORAGE_MODELS, source, context)
    for key, tables in (("harvester", registry.HARVESTERS), ("load", registry.LOADS)):
        items = data.get(key, [])
        for i, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                attempt(loader.resolve, item, f"{key}[{i}]", "type", tables, source, context)
    if isinstance(data.get("pmic"), dict):
        attempt(loader.resolve, data["pmic"], "pmic", "model", registry.PMICS, source, context)
    if isinstance(data.get("firmware"), dict) and registry.FIRMWARE_TABLE is not None:
        attempt(loader.validate, registry.FIRMWARE_TABLE, data["firmware"], source, "firmware", context)
    for key, table in registry.TOP_LEVEL_TABLES.items():
        if isinstance(data.get(key), dict):
            attempt(loader.validate, table, data[key], source, key, context)
    try:  # the authority: top-level keys, cross-table checks, and the Scenario itself
        scenario = loader.from_dict(data, source=source, base_dir=base_dir)
    except ScenarioError as exc:
        if all(exc.message != e.message for e in errors):
            errors.insert(0, exc)
        return None, errors
    return (None, errors) if errors else (scenario, [])


def split_key(key: str | None) -> tuple[str, int | None, str]:
    """``"load[1].phases[0].current"`` -> ``("load", 1, "phases[0].current")``;
    ``"storage.capacitance"`` -> ``("storage", None, "capacitance")``."""
    if not key:
        return "", None, ""
    match = _INDEXED.match(key)
    if match:
        return match.group(1), int(match.group(2)), match.group(3).lstrip(".")
    head, _, rest = key.partition(".")
    return head, None, rest
