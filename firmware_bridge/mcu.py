"""MCU classes (data with citations in ``data/mcu.toml``) and the MCU load whose state the firmware sets.

The MCU is a load on the storage terminal drawing, by state (models-and-numerics.md §4.4):

* ``active`` – code running, ``time.sleep*`` busy waits: ``I_active · f / f_nominal`` (CMOS
  dynamic current in proportion to the clock, set with ``machine.freq(hz)``),
* ``sleep`` – ``machine.lightsleep`` and ``machine.idle``: ``I_sleep``,
* ``deepsleep`` – ``machine.deepsleep``: ``I_deepsleep``,
* ``off`` – browned out (the engine cuts every load then anyway).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources

from sysim.engine.component import Component
from sysim.engine.draws import load_draw
from sysim.engine.schedule import ConstantSchedule, Schedule
from sysim.scenario.registry import Preset, register_preset
from sysim.units import parse_quantity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

STATES = ("off", "active", "sleep", "deepsleep")
#: trace codes of the ``mcu_state`` column
STATE_CODES = {"off": 0, "active": 1, "sleep": 2, "deepsleep": 3}


@dataclass(frozen=True)
class McuClass:
    name: str
    title: str
    active_current_A: float
    sleep_current_A: float
    deepsleep_current_A: float
    freq_hz: float
    freq_min_hz: float
    freq_max_hz: float
    adc_full_scale_V: float
    adc_bits: int
    source: str
    notes: str = ""
    verified: bool = True


_FIELDS = {"active_current": "current", "sleep_current": "current", "deepsleep_current": "current",
           "freq": "frequency", "freq_min": "frequency", "freq_max": "frequency", "adc_full_scale": "voltage"}


def _load() -> dict[str, McuClass]:
    text = (resources.files("firmware_bridge") / "data" / "mcu.toml").read_text(encoding="utf-8")
    out = {}
    for name, entry in tomllib.loads(text).items():
        v = {k: parse_quantity(entry[k], dim) for k, dim in _FIELDS.items()}
        out[name] = McuClass(name, entry["title"], v["active_current"], v["sleep_current"], v["deepsleep_current"],
                             v["freq"], v["freq_min"], v["freq_max"], v["adc_full_scale"], int(entry["adc_bits"]),
                             entry["source"], entry.get("notes", ""), bool(entry.get("verified", True)))
    return out


MCU_CLASSES: dict[str, McuClass] = _load()


def register_presets() -> None:
    """List the MCU classes in ``sysim presets`` (kind ``mcu``) with their sources."""
    for c in MCU_CLASSES.values():
        register_preset(Preset(
            name=f"mcu-{c.name}", kind="mcu", title=c.title,
            values={"active_current": f"{c.active_current_A * 1e3:g} mA", "sleep_current": f"{c.sleep_current_A * 1e6:g} uA",
                    "deepsleep_current": f"{c.deepsleep_current_A * 1e6:g} uA", "freq": f"{c.freq_hz / 1e6:g} MHz",
                    "adc_full_scale": f"{c.adc_full_scale_V:g} V", "adc_bits": c.adc_bits},
            source=c.source, notes=c.notes + f' Use it as [firmware] mcu = "{c.name}".', verified=c.verified))


class McuLoad(Component):
    """The MCU's own current, following the state the firmware runner sets."""

    kind = "load"

    def __init__(self, name: str, mcu: McuClass):
        self.name = name
        self.mcu = mcu
        self.freq_hz = mcu.freq_hz
        self.state = "active"
        self._since = 0.0
        self.time_in_state = dict.fromkeys(STATES, 0.0)
        self._schedules = {}
        self._rebuild()

    def _rebuild(self) -> None:
        currents = {"off": 0.0, "active": self.mcu.active_current_A * self.freq_hz / self.mcu.freq_hz,
                    "sleep": self.mcu.sleep_current_A, "deepsleep": self.mcu.deepsleep_current_A}
        self._schedules = {s: ConstantSchedule((load_draw(self.name, i),) if i > 0 else ()) for s, i in currents.items()}

    def set_state(self, t: float, state: str) -> None:
        if state != self.state:
            self.time_in_state[self.state] += t - self._since
            self.state, self._since = state, t

    def set_freq(self, hz: float) -> None:
        self.freq_hz = float(hz)
        self._rebuild()

    def schedule(self, sim) -> Schedule:
        return self._schedules[self.state]

    def state_columns(self) -> list[str]:
        return [f"{self.name}_state"]

    def state_values(self) -> list[float]:
        return [float(STATE_CODES[self.state])]

    def close_books(self, t: float) -> dict[str, float]:
        totals = dict(self.time_in_state)
        totals[self.state] += t - self._since
        return totals
