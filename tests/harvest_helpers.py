"""Helpers for the harvester tests: paths of the shipped data and a TMY3 -> EPW converter."""
from __future__ import annotations

import csv
from pathlib import Path

import sysim

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "harvesters" / "data"
TMY3 = DATA / "greensboro-nc-june-tmy3.csv"
OFFICE_LUX = DATA / "office-lux-week.csv"


def run(data, **kwargs):
    return sysim.simulate(sysim.from_dict(data), **kwargs)


def tmy3_to_epw(tmy3: Path, epw: Path) -> None:
    """Write the rows of a TMY3 file as an EPW file (the fields pvlib's read_epw uses), so both
    readers can be checked against the same data. EPW hours run 1..24 like TMY3's."""
    rows = list(csv.reader(open(tmy3, newline="")))
    meta, header, data = rows[0], rows[1], rows[2:]
    col = {name: header.index(name) for name in header}
    lat, lon, tz, elev = meta[4], meta[5], meta[3], meta[6]
    lines = [f"LOCATION,{meta[1].strip(chr(34))},{meta[2]},USA,TMY3,{meta[0]},{lat},{lon},{tz},{elev}",
             "DESIGN CONDITIONS,0", "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0",
             "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0", "COMMENTS 1,converted from a TMY3 file for tests",
             "COMMENTS 2,", "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31"]
    for r in data:
        month, day, year = r[col["Date (MM/DD/YYYY)"]].split("/")
        hour = int(r[col["Time (HH:MM)"]].split(":")[0])
        v = lambda name: r[col[name]]  # noqa: E731
        fields = [year, str(int(month)), str(int(day)), str(hour), "60", "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9?9?9",
                  v("Dry-bulb (C)"), v("Dew-point (C)"), v("RHum (%)"), str(float(v("Pressure (mbar)")) * 100),
                  v("ETR (W/m^2)"), v("ETRN (W/m^2)"), "9999", v("GHI (W/m^2)"), v("DNI (W/m^2)"), v("DHI (W/m^2)"),
                  "999999", "999999", "999999", "9999", v("Wdir (degrees)"), v("Wspd (m/s)"), v("TotCld (tenths)"),
                  v("OpqCld (tenths)"), "9999", "99999", "9", "999999999", "999", "0.999", "999", "99", "0.2", "0", "0"]
        lines.append(",".join(fields))
    epw.write_text("\n".join(lines) + "\n")
