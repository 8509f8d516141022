"""Light on the cell over time: illuminance to irradiance per light source, schedules and traces.

**Lux to irradiance** (models-and-numerics.md §3.1): ``E_e [W/m²] = E_v [lx] / K`` with ``K`` the
luminous efficacy of the source's *spectrum* (lm per radiant W):

==============  =========  ====================================================================
source          K (lm/W)   basis
==============  =========  ====================================================================
``led``         300        white phosphor LED; the reference's 250–350 lm/W class value [B]
``fluorescent`` 300        fluorescent tube, same class (Minnaert & Veelaert 2014 group LED
                           and fluorescent sources together for indoor PV) [B]
``daylight``    120        daylight through a window (reference table value, K ≈ 120)
``sun``         122        outdoor sunlight: 1000 W/m² = 122 ± 1 klx (Michael et al. 2020,
                           J. Meas. Eng., doi:10.21595/jme.2020.21667)
==============  =========  ====================================================================

The cell sees the *effective* irradiance ``E_e × spectral factor`` of its preset for that source
(:mod:`harvesters.pv_cell`).

A :class:`LightSeries` is piecewise constant: segment ``k`` holds from ``times_s[k]`` to the next
start (the last to the end of the run). Schedules use the calendar of ``[simulation] start``
(t = 0 is Monday 00:00 when no start is given).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sysim.errors import InputFileError

from . import csvdata

#: luminous efficacy of radiation of each light source (lm/W)
LUMINOUS_EFFICACY = {"led": 300.0, "fluorescent": 300.0, "daylight": 120.0, "sun": 122.0}
DAY_S = 86400.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class LightSeries:
    """Piecewise-constant irradiance (W/m², incident) and cell temperature (K)."""

    times_s: np.ndarray
    irradiance: np.ndarray
    temperature_K: np.ndarray
    source: str

    def __post_init__(self):
        self.times_s = np.asarray(self.times_s, dtype=float)
        self.irradiance = np.asarray(self.irradiance, dtype=float)
        self.temperature_K = np.broadcast_to(np.asarray(self.temperature_K, dtype=float), self.times_s.shape).copy()

    def merged(self) -> "LightSeries":
        """Consecutive equal segments joined (fewer regime changes for the engine)."""
        if len(self.times_s) <= 1:
            return self
        keep = np.ones(len(self.times_s), dtype=bool)
        keep[1:] = (np.diff(self.irradiance) != 0) | (np.diff(self.temperature_K) != 0)
        return LightSeries(self.times_s[keep], self.irradiance[keep], self.temperature_K[keep], self.source)


def lux_to_irradiance(lux, source: str, efficacy_lm_per_W: float | None = None):
    """Incident irradiance (W/m²) for illuminance ``lux`` (lx) under ``source``."""
    k = efficacy_lm_per_W if efficacy_lm_per_W else LUMINOUS_EFFICACY[source]
    return np.asarray(lux, dtype=float) / k


def constant(irradiance: float, temperature_K: float, source: str) -> LightSeries:
    return LightSeries(np.array([0.0]), np.array([irradiance]), temperature_K, source)


def parse_days(text: str) -> frozenset[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``"all"`` -> weekday numbers (Monday = 0)."""
    text = text.strip().lower()
    if text in ("all", "daily", "every day"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = (p.strip()[:3] for p in part.split("-", 1))
            if a not in WEEKDAYS or b not in WEEKDAYS:
                raise ValueError(f"unknown weekday in {part!r} (use mon, tue, ... sun)")
            i, j = WEEKDAYS.index(a), WEEKDAYS.index(b)
            days.update(range(i, j + 1) if i <= j else list(range(i, 7)) + list(range(0, j + 1)))
        else:
            if part[:3] not in WEEKDAYS:
                raise ValueError(f"unknown weekday {part!r} (use mon, tue, ... sun)")
            days.add(WEEKDAYS.index(part[:3]))
    return frozenset(days)


def parse_hours(text: str) -> tuple[float, float]:
    """``"08:00-18:00"`` -> (28800.0, 64800.0) seconds of the day."""
    try:
        a, b = text.split("-")
        out = []
        for part in (a, b):
            hh, mm = part.strip().split(":")
            h, m = int(hh), int(mm)
            if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
                raise ValueError
            out.append(h * 3600.0 + m * 60.0)
    except ValueError:
        raise ValueError(f"expected hours like '08:00-18:00', got {text!r}") from None
    if out[0] == out[1]:
        raise ValueError(f"hours {text!r} start and end at the same time")
    return out[0], out[1]


def schedule(on_value: float, off_value: float, hours: tuple[float, float], days: frozenset[int],
             start: dt.datetime | None, duration_s: float, temperature_K: float, source: str) -> LightSeries:
    """``on_value`` (W/m²) during ``hours`` on ``days``, ``off_value`` otherwise, over the run.

    Hours that wrap past midnight (``22:00-06:00``) belong to the day they start on."""
    start = start or dt.datetime(2024, 1, 1)  # a Monday
    t0_of_day = start.hour * 3600.0 + start.minute * 60.0 + start.second + start.microsecond * 1e-6
    weekday0 = start.weekday()
    on_s, off_s = hours
    length = (off_s - on_s) % DAY_S
    times, values = [0.0], [off_value]
    first_day = -1  # the previous day's wrapping period may still be on at t = 0
    n_days = int(np.ceil((duration_s + t0_of_day) / DAY_S)) + 1
    for d in range(first_day, n_days):
        if (weekday0 + d) % 7 not in days:
            continue
        a = d * DAY_S + on_s - t0_of_day
        b = a + length
        if b <= 0.0 or a >= duration_s:
            continue
        times.extend([max(a, 0.0), b])
        values.extend([on_value, off_value])
    # sort by time; a segment starting at 0 replaces the initial off value
    order = np.argsort(np.asarray(times), kind="stable")
    t, v = np.asarray(times)[order], np.asarray(values)[order]
    keep = np.ones(len(t), dtype=bool)
    keep[:-1] = t[1:] != t[:-1]
    keep &= (t < duration_s) | (t == 0.0)
    return LightSeries(t[keep], v[keep], temperature_K, source).merged()


def from_csv(path: str, source: str, temperature_K: float, duration_s: float,
             repeat_every_s: float | None = None, efficacy: float | None = None) -> LightSeries:
    """A lux or irradiance trace: columns ``time_<unit>`` and ``lux`` (or ``illuminance_lx``) or
    ``irradiance_W_m2``; each value holds until the next row. With ``repeat_every_s`` the trace
    repeats with that period (it must fit inside one period)."""
    table = csvdata.read_table(path)
    t = csvdata.times(table)
    index, scale, kind = csvdata.find_column(
        table, [("lux", "illuminance"), ("illuminance", "illuminance"), ("irradiance", "irradiance")],
        "illuminance or irradiance")
    what = "irradiance" if kind == "irradiance" else "illuminance"
    values = csvdata.numbers(table, index, scale, what, non_negative=True)
    if kind != "irradiance":
        values = lux_to_irradiance(values, source, efficacy)
    if t[0] > 0.0:  # dark before the first row
        t, values = np.concatenate([[0.0], t]), np.concatenate([[0.0], values])
    if repeat_every_s:
        if t[-1] >= repeat_every_s:
            raise InputFileError(path, f"line {table.lines[-1]}",
                                 f"time {t[-1]:g} s lies outside the repeat period {repeat_every_s:g} s")
        copies = int(np.ceil(duration_s / repeat_every_s))
        t = np.concatenate([t + k * repeat_every_s for k in range(max(copies, 1))])
        values = np.tile(values, max(copies, 1))
    inside = t < duration_s
    inside[0] = True
    return LightSeries(t[inside], values[inside], temperature_K, source).merged()
