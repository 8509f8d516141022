"""The storage preset library and the OCV tables per chemistry: data files with citations.

``presets/ocv.toml`` holds one OCV table per chemistry (``chemistry = "lfp"`` in a battery table);
every other ``presets/*.toml`` file holds presets, one top-level table per preset::

    [nto-ag-nimc]
    title = "..."            # one line for `sysim presets`
    source = "..."           # paper or datasheet, with the figure or table the numbers come from
    notes = "..."            # footprint vs electrode area, assumptions, what is not modelled
    verified = true          # false where the reference marks a figure unverified ([B], ⚠, derived)
    values = { model = "supercap", ... }    # scenario keys with units, merged under explicit keys
    figures = { ... }        # the published numbers the preset reproduces (tests check them)

The presets are registered in sysim.scenario.registry (kind ``storage``) when the package loads.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sysim.scenario.registry import Preset, register_preset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PRESET_DIR = Path(__file__).resolve().parent / "presets"
_PRESET_KEYS = {"title", "source", "notes", "verified", "values", "figures"}


@dataclass(frozen=True)
class OcvTable:
    name: str
    title: str
    source: str
    points: tuple[tuple[float, float], ...]  # (soc, volts)
    verified: bool = False


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuntimeError(f"preset data file {path} is unreadable: {exc}") from None


@lru_cache(maxsize=None)
def ocv_tables() -> dict[str, OcvTable]:
    """OCV tables by chemistry name (from ``presets/ocv.toml``)."""
    out = {}
    for name, entry in _read(PRESET_DIR / "ocv.toml").items():
        points = tuple((float(s), float(v)) for s, v in entry["points"])
        out[name] = OcvTable(name, entry["title"], entry["source"], points, bool(entry.get("verified", False)))
    return out


@lru_cache(maxsize=None)
def storage_presets() -> tuple[Preset, ...]:
    """Every storage preset in the data files, in file then entry order."""
    out = []
    for path in sorted(PRESET_DIR.glob("*.toml")):
        if path.name == "ocv.toml":
            continue
        for name, entry in _read(path).items():
            unknown = set(entry) - _PRESET_KEYS
            missing = {"title", "source", "values"} - set(entry)
            if unknown or missing:
                raise RuntimeError(f"{path.name}: preset {name!r}: unknown keys {sorted(unknown)} / "
                                   f"missing {sorted(missing)}")
            out.append(Preset(name=name, kind="storage", title=entry["title"], values=dict(entry["values"]),
                              source=entry["source"], notes=entry.get("notes", ""),
                              verified=bool(entry.get("verified", True)), figures=dict(entry.get("figures", {}))))
    return tuple(out)


def register_presets() -> None:
    for preset in storage_presets():
        register_preset(preset)
