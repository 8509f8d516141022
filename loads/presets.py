"""The load library's presets: data files ``loads/presets/*.toml``, registered at import.

Each top-level table of a file is one preset::

    [nrf52832-ble-adv]
    title = "..."                 # one line for `sysim presets`
    source = "..."                # datasheet / paper and the figure or table the values come from
    notes = "..."                 # assumptions, derived values
    verified = true               # false when a value is marked unverified ([B]) in the reference
    values = { type = "ble", interval = "1 s", ... }     # scenario keys with units
    figures = { event_charge = "10.6 uC" }               # published figures the values reproduce

Regulator presets (``type = "ldo" | "buck"``) are used as ``[regulator.<name>] preset = ...``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sysim.scenario.registry import Preset, register_preset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PRESET_DIR = Path(__file__).with_name("presets")
_KEYS = {"title", "source", "notes", "verified", "values", "figures", "kind"}


def load_presets(folder: Path = PRESET_DIR) -> list[Preset]:
    """Read every preset file in ``folder`` (sorted by file name)."""
    presets = []
    for path in sorted(folder.glob("*.toml")):
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        for name, entry in data.items():
            unknown = set(entry) - _KEYS
            missing = {"title", "source", "values"} - set(entry)
            if unknown or missing:
                raise ValueError(f"{path.name}: preset {name!r}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
            presets.append(Preset(name=name, kind=entry.get("kind", "load"), title=entry["title"],
                                  values=dict(entry["values"]), source=entry["source"], notes=entry.get("notes", ""),
                                  verified=bool(entry.get("verified", True)), figures=dict(entry.get("figures", {}))))
    return presets


for _preset in load_presets():
    register_preset(_preset)
