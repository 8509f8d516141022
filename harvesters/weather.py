"""Outdoor light from a weather file: TMY3 or EPW read with ``pvlib.iotools``, transposed to the
plane of the cell, with the cell temperature from the air temperature and wind.

Steps (all pvlib, vectorised once when the harvester is built):

1. ``pvlib.iotools.read_tmy3`` / ``read_epw`` (hourly means in the file's standard time; pvlib
   stamps TMY3 rows with the end of their hour and EPW rows with its start);
2. solar position at the middle of each hour (``pvlib.solarposition.get_solarposition``);
3. plane-of-array irradiance with the Hay–Davies sky model
   (``pvlib.irradiance.get_total_irradiance``, extraterrestrial DNI from ``get_extra_radiation``);
4. cell temperature with the Faiman model (``pvlib.temperature.faiman``, its default U0/U1).

Simulation time ``t = 0`` is ``[simulation] start`` read in the file's standard time (the first
hour of the file when no start is given). A full-year file (TMY) repeats year after year; a shorter
file must cover the whole run.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import warnings
from pathlib import Path

import numpy as np

from sysim.errors import InputFileError, not_utf8

from .light import LightSeries

HOUR_S = 3600.0
YEAR_HOURS = 8760


def _read(path: str):
    import pvlib

    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".epw":
            data, meta = pvlib.iotools.read_epw(path)
            header_lines, label = 8, "start"   # pvlib labels EPW hours by their start
        else:
            data, meta = pvlib.iotools.read_tmy3(path, map_variables=True)
            header_lines, label = 2, "end"     # and TMY3 hours by their end
    except UnicodeDecodeError:
        raise not_utf8(path) from None
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        kind = "EPW" if suffix == ".epw" else "TMY3"
        bad = _first_malformed_row(path, suffix == ".epw")
        if bad is not None:
            raise InputFileError(path, f"line {bad[0]}", f"not a {kind} data row: {bad[1]}") from None
        raise InputFileError(path, None, f"cannot read it as a {kind} weather file ({type(exc).__name__}: {exc})") from None
    return data, meta, header_lines, label


def _first_malformed_row(path: str, epw: bool) -> tuple[int, str] | None:
    """``(line, reason)`` of the first data row pvlib cannot have read: a field count unlike the
    header's (TMY3) or below the format's 35 (EPW), or a date and hour that are not numbers."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    first = 8 if epw else 2
    if len(rows) <= first:
        return None
    expected = 35 if epw else len(rows[first - 1])
    for number, row in enumerate(rows[first:], start=first + 1):
        if (len(row) < expected) if epw else (len(row) != expected):
            return number, f"{len(row)} fields, expected {expected}"
        stamp = row[:4] if epw else row[0].split("/") + row[1].split(":")
        if not all(part.strip().isdigit() for part in stamp):
            return number, f"no date and hour in {','.join(row[:2])!r}"
    return None


def _check(path: str, data, header_lines: int) -> None:
    import pandas as pd

    for column, what, unit, signed in (("ghi", "global horizontal irradiance", "W/m²", False),
                                       ("dni", "direct normal irradiance", "W/m²", False),
                                       ("dhi", "diffuse horizontal irradiance", "W/m²", False),
                                       ("temp_air", "air temperature", "°C", True),
                                       ("wind_speed", "wind speed", "m/s", False)):
        if column not in data:
            if column == "wind_speed":
                continue  # optional: 1 m/s is assumed
            raise InputFileError(path, None, f"no {what} column")
        raw = data[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)  # text -> NaN, said below
        bad = np.nonzero(~np.isfinite(values) | ((values < 0) & (not signed)))[0]
        if len(bad):
            k = int(bad[0])
            where = f"line {k + header_lines + 1}"
            if np.isfinite(values[k]):
                raise InputFileError(path, where, f"negative {what}: {values[k]:g} {unit}")
            text = str(raw.iloc[k]).strip()
            if pd.isna(raw.iloc[k]) or text.lower() == "nan" or not text:
                raise InputFileError(path, where, f"missing {what}")
            raise InputFileError(path, where, f"{what} is not a finite number: {text!r}")


def weather_light(path: str, start: dt.datetime | None, duration_s: float, tilt_rad: float, azimuth_rad: float,
                  albedo: float = 0.2) -> LightSeries:
    """Plane-of-array irradiance (W/m²) and Faiman cell temperature (K), hour by hour, in
    simulation time. ``azimuth_rad``: direction the cell faces, clockwise from north (π = south)."""
    import pandas as pd
    import pvlib

    data, meta, header_lines, label = _read(path)
    _check(path, data, header_lines)
    n = len(data)
    if n == 0:
        raise InputFileError(path, None, "no data rows")
    starts = data.index - pd.Timedelta(hours=1) if label == "end" else data.index
    starts_local = starts.tz_localize(None)
    middle = starts + pd.Timedelta(minutes=30)
    try:
        lat, lon, alt = float(meta["latitude"]), float(meta["longitude"]), float(meta.get("altitude", 0.0) or 0.0)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputFileError(path, "line 1", f"no readable latitude, longitude and altitude ({exc})") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 and abs(alt) < 1e4):
        raise InputFileError(path, "line 1", f"latitude {lat:g}, longitude {lon:g}, altitude {alt:g} m are not a "
                             "place on Earth")
    with warnings.catch_warnings():  # pvlib's own use of deprecated pandas names
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        solpos = pvlib.solarposition.get_solarposition(middle, lat, lon, altitude=alt)
        dni_extra = pvlib.irradiance.get_extra_radiation(middle)
    airmass = pvlib.atmosphere.get_relative_airmass(solpos["apparent_zenith"])
    # plain arrays: the solar position is indexed by mid-hour, the data by hour end
    poa = pvlib.irradiance.get_total_irradiance(
        math.degrees(tilt_rad), math.degrees(azimuth_rad), np.asarray(solpos["apparent_zenith"]),
        np.asarray(solpos["azimuth"]), np.asarray(data["dni"], dtype=float), np.asarray(data["ghi"], dtype=float),
        np.asarray(data["dhi"], dtype=float), dni_extra=np.asarray(dni_extra), airmass=np.asarray(airmass),
        albedo=albedo, model="haydavies")
    poa_global = np.nan_to_num(np.asarray(poa["poa_global"], dtype=float), nan=0.0).clip(min=0.0)
    temp_air = np.asarray(data["temp_air"], dtype=float)
    wind = np.asarray(data["wind_speed"], dtype=float) if "wind_speed" in data else np.ones(n)
    t_cell_C = np.asarray(pvlib.temperature.faiman(poa_global, temp_air, wind), dtype=float)

    # simulation time of each hour's start, in the file's standard time; years are ignored
    # (a TMY file takes each month from a different year)
    first = starts_local[0].to_pydatetime()
    start = start or first
    t_year = _seconds_into_year_array(starts_local)
    start_in_year = _seconds_into_year(start)
    if n >= YEAR_HOURS:
        # a typical year: it repeats, so any start date maps onto it
        period = YEAR_HOURS * HOUR_S
        rel = (t_year - start_in_year) % period
        order = np.argsort(rel, kind="stable")
        rel, poa_global, t_cell_C = rel[order], poa_global[order], t_cell_C[order]
        copies = int(math.ceil(duration_s / period)) + 1
        times = np.concatenate([rel + k * period for k in range(copies)])
        poa_global, t_cell_C = np.tile(poa_global, copies), np.tile(t_cell_C, copies)
        if times[0] > 0:  # the hour that contains t = 0 started before it
            times = np.concatenate([[0.0], times])
            poa_global = np.concatenate([[poa_global[-1]], poa_global])
            t_cell_C = np.concatenate([[t_cell_C[-1]], t_cell_C])
    else:
        times = t_year - start_in_year
        if np.any(np.diff(times) != HOUR_S):
            k = int(np.nonzero(np.diff(times) != HOUR_S)[0][0]) + 1
            raise InputFileError(path, f"line {k + header_lines + 1}",
                                 "a weather file shorter than a year must hold consecutive hours of one year")
        if times[0] > 0 or times[-1] + HOUR_S < duration_s:
            last = starts_local[-1].to_pydatetime() + dt.timedelta(hours=1)
            raise InputFileError(path, None, f"covers {first:%m-%d %H:%M} to {last:%m-%d %H:%M}; the run needs "
                                 f"{start:%m-%d %H:%M} plus {duration_s / 86400:g} d (set [simulation] start and "
                                 f"duration inside it)")
    inside = times < duration_s
    keep_first = np.nonzero(times <= 0.0)[0]
    if len(keep_first):
        inside[: keep_first[-1]] = False  # hours that ended before t = 0
        inside[keep_first[-1]] = True
    times = np.maximum(times[inside], 0.0)
    return LightSeries(times, poa_global[inside], t_cell_C[inside] + 273.15, "sun").merged()


#: days before each month's first on a 365-day calendar
_DAYS_BEFORE_MONTH = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])


def _seconds_into_year_array(times) -> np.ndarray:
    """Seconds since Jan 1 00:00 on a 365-day calendar (Feb 29 folded onto Mar 1) of every entry
    of a (naive) pandas DatetimeIndex."""
    month, day = np.asarray(times.month), np.asarray(times.day)
    leap_day = (month == 2) & (day == 29)
    days = _DAYS_BEFORE_MONTH[month - 1] + np.where(leap_day, 28, day) - 1 + leap_day
    return days * 86400.0 + np.asarray(times.hour) * 3600.0 + np.asarray(times.minute) * 60.0 \
        + np.asarray(times.second, dtype=float)


def _seconds_into_year(t: dt.datetime) -> float:
    """:func:`_seconds_into_year_array` of one time."""
    import pandas as pd

    return float(_seconds_into_year_array(pd.DatetimeIndex([t]))[0])
