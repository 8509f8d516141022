"""Loads the harvester and PMIC preset library (``harvesters/presets/*.toml``) into the registry.

Each entry: ``title``, ``source`` (paper or datasheet and the figure or table), ``notes``,
``verified`` (false when it rests on figures the reference marks [B]), ``values`` (scenario keys
with units) and ``figures`` (the published numbers it reproduces).
"""
from __future__ import annotations

import sys
from importlib import resources

from sysim.scenario.registry import Preset, register_preset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: file -> preset kind
FILES = {"pv.toml": "harvester", "teng.toml": "harvester", "pmic.toml": "pmic"}


def load_presets() -> list[Preset]:
    out = []
    folder = resources.files("harvesters") / "presets"
    for filename, kind in FILES.items():
        data = tomllib.loads((folder / filename).read_text(encoding="utf-8"))
        for name, entry in data.items():
            out.append(Preset(name=name, kind=kind, title=entry["title"], values=dict(entry["values"]),
                              source=entry["source"], notes=entry.get("notes", ""),
                              verified=entry.get("verified", True), figures=dict(entry.get("figures", {}))))
    return out


for _preset in load_presets():
    register_preset(_preset)
