"""Regenerate ``office-lux-week.csv`` (run from this folder): a week of illuminance on an office
desk, built from measured daylight, not invented numbers.

* daylight: 2 % (a typical daylight factor for a desk about 3 m from a side window) of the outdoor
  global horizontal illuminance of the TMY3 file ``greensboro-nc-june-tmy3.csv`` (first 7 days;
  the column "GH illum (lx)", which holds hundreds of lux: 968 at 916 W/m², ≈ 106 lm/W; hourly means
  placed at mid-hour and interpolated linearly);
* electric light: 400 lx from LED ceiling luminaires, Monday to Friday 08:00–18:00 (the trace's
  day 0 is a Monday); weekends have daylight only.

The trace is sampled every 15 min; use it with ``source = "led"`` (the electric light dominates
during office hours) and ``repeat_every = "7 d"``.
"""
import csv

import numpy as np

rows = list(csv.reader(open("greensboro-nc-june-tmy3.csv")))[2:]
header = list(csv.reader(open("greensboro-nc-june-tmy3.csv")))[1]
col = header.index("GH illum (lx)")
gh = 100.0 * np.array([float(r[col]) for r in rows[: 7 * 24]])  # hectolux -> lux
hours_mid = np.arange(7 * 24) + 0.5
t_h = np.arange(0, 7 * 24, 0.25)
daylight = 0.02 * np.interp(t_h, hours_mid, gh, left=0.0, right=0.0)
day, hour = (t_h // 24).astype(int), t_h % 24
electric = np.where((day < 5) & (hour >= 8) & (hour < 18), 400.0, 0.0)
with open("office-lux-week.csv", "w", newline="") as fh:
    fh.write("# office desk, June week, 2 % daylight factor + 400 lx LED Mon-Fri 08:00-18:00; see make_office_lux_week.py\n")
    w = csv.writer(fh)
    w.writerow(["time_h", "lux"])
    for t, lux in zip(t_h, daylight + electric):
        w.writerow([f"{t:g}", f"{lux:.1f}"])
