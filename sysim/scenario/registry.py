"""Where component packages register their scenario tables and presets.

sysim knows the shape of a scenario file; the component packages know their own tables. Each
package registers, at import time, a pydantic table class per ``type`` (or storage ``model``) with a
``build(context)`` method, and its presets as data with citations. :mod:`sysim.components` imports
the packages so that the registry is complete before a scenario is validated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STORAGE_MODELS: dict[str, type] = {}
HARVESTERS: dict[str, type] = {}
LOADS: dict[str, type] = {}
PMICS: dict[str, type] = {}


@dataclass(frozen=True)
class Preset:
    """A named parameter set with its source.

    ``kind`` is the library it belongs to (``storage``, ``harvester``, ``pmic``, ``load``);
    ``values`` are scenario keys (strings with units), merged under the user's explicit keys;
    ``source`` cites the paper/datasheet and figure or table; ``notes`` states assumptions
    (footprint vs electrode area, unverified figures).
    """

    name: str
    kind: str
    title: str
    values: dict[str, Any]
    source: str
    notes: str = ""
    verified: bool = True
    figures: dict[str, Any] = field(default_factory=dict)  # the published figures it reproduces


PRESETS: dict[str, Preset] = {}


def register_storage_model(name: str, table: type) -> None:
    STORAGE_MODELS[name] = table


def register_harvester(name: str, table: type) -> None:
    HARVESTERS[name] = table


def register_load(name: str, table: type) -> None:
    LOADS[name] = table


def register_pmic(name: str, table: type) -> None:
    PMICS[name] = table


def register_preset(preset: Preset) -> None:
    if preset.name in PRESETS and PRESETS[preset.name] != preset:
        raise ValueError(f"preset {preset.name!r} registered twice")
    PRESETS[preset.name] = preset


def presets(kind: str | None = None) -> list[Preset]:
    return [p for p in PRESETS.values() if kind is None or p.kind == kind]

#: the [firmware] table class, registered by firmware_bridge
FIRMWARE_TABLE: type | None = None
#: further top-level tables an extension adds (name -> table class)
TOP_LEVEL_TABLES: dict[str, type] = {}
#: cross-table checks run on a validated Scenario; raise ScenarioError(None, key, reason)
SCENARIO_CHECKS: list = []


def register_firmware_table(table: type) -> None:
    global FIRMWARE_TABLE
    FIRMWARE_TABLE = table


def register_top_level_table(name: str, table: type) -> None:
    TOP_LEVEL_TABLES[name] = table


def register_scenario_check(check) -> None:
    if check not in SCENARIO_CHECKS:
        SCENARIO_CHECKS.append(check)
