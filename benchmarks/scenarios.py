"""The benchmark scenarios of issue 6, built as dicts (weather taken from pvlib's own data).

* ``year_hourly``: one year of a BLE beacon advertising every 1 s (BL652-class pulse, §4.1) from a
  two-branch micro-supercapacitor with leakage, charged by a 20 cm² crystalline-Si cell outdoors
  (TMY3 hourly weather shipped with pvlib, Greensboro NC) through a BQ25570-class PMIC.
* ``year_minute``: the same node with one-minute irradiance: the hourly TMY3 values interpolated to
  the minute with deterministic cloud flicker, written to a CSV trace (525,600 rows).
"""
from __future__ import annotations

import copy
import math
import os
from pathlib import Path

import numpy as np


def tmy3_path() -> str:
    import pvlib

    return str(Path(pvlib.__file__).parent / "data" / "723170TYA.CSV")


BLE = {"type": "periodic", "name": "ble", "period": "1 s", "base_current": "2 uA",
       "phases": [{"current": "3 mA", "duration": "0.3 ms"}, {"current": "5.3 mA", "duration": "1.2 ms"},
                  {"current": "3 mA", "duration": "0.5 ms"}]}

NODE = {
    "name": "BLE beacon, outdoor c-Si PV, BQ25570, two-branch supercap: one year",
    "simulation": {"duration": "365 d", "record_every": "1 d", "start": "1990-01-01T00:00:00"},
    "storage": {"model": "supercap", "capacitance": "0.47 F", "esr": "0.5 ohm", "leakage_resistance": "500 kohm",
                "branches": [{"capacitance": "0.2 F", "resistance": "50 ohm"}],
                "initial_voltage": "3.0 V", "v_min": "2.0 V", "v_max": "4.2 V"},
    "pmic": {"preset": "bq25570", "v_ov": "4.1 V"},
    "load": [BLE],
}


def year_hourly(record_every: str = "1 d") -> dict:
    data = copy.deepcopy(NODE)
    data["simulation"]["record_every"] = record_every
    data["harvester"] = [{"type": "pv", "name": "pv", "preset": "indoor-csi", "area": "20 cm^2",
                          "light": {"weather": tmy3_path(), "tilt": "35 deg", "azimuth": "180 deg"}}]
    return data


def minute_trace(path: str) -> str:
    """Write a year of one-minute plane irradiance (W/m²) derived from the TMY3 hourly data."""
    import pvlib

    weather, _ = pvlib.iotools.read_tmy3(tmy3_path(), map_variables=True)
    ghi = weather["ghi"].to_numpy(dtype=float)
    hours = np.arange(len(ghi)) + 0.5
    minutes = np.arange(len(ghi) * 60) / 60.0
    smooth = np.interp(minutes, hours, ghi, left=ghi[0], right=ghi[-1])
    rng = np.random.default_rng(1990)
    flicker = np.clip(1.0 + 0.15 * rng.standard_normal(len(minutes)), 0.3, 1.4)
    irradiance = np.clip(smooth * flicker, 0.0, None)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("time_min,irradiance_W_m2\n")
        np.savetxt(fh, np.column_stack([np.arange(len(minutes)), irradiance]), fmt=["%d", "%.3f"], delimiter=",")
    return path


def year_minute(folder: str, record_every: str = "1 d") -> dict:
    data = copy.deepcopy(NODE)
    data["name"] = NODE["name"].replace("one year", "one year, 1-min irradiance")
    data["simulation"]["record_every"] = record_every
    trace = os.path.join(folder, "irradiance-1min.csv")
    if not os.path.exists(trace):
        minute_trace(trace)
    data["harvester"] = [{"type": "pv", "name": "pv", "preset": "indoor-csi", "area": "20 cm^2",
                          "light": {"trace": trace, "source": "sun"}}]
    return data


def event_stepping(days: float = 1.0) -> dict:
    """Event-by-event stepping of the same storage under BLE pulses (no harvest, no brown-out)."""
    data = copy.deepcopy(NODE)
    data["simulation"] = {"duration": f"{days} d", "record_every": "1 h", "method": "event"}
    data["storage"]["capacitance"] = "5 F"
    del data["pmic"]
    return data


def spice_hour() -> tuple[dict, float]:
    """The storage and BLE load of the year scenarios as an ngspice-able circuit (1 h)."""
    return copy.deepcopy(NODE["storage"]), math.nan
