"""report.png: the figure an engineer looks at first after a run.

Four stacked panels on one time axis: storage voltage with the brown-out and over-voltage
thresholds, the exact minimum and shaded brown-out spans; average harvested and load power per
record interval (from the exact cumulative ledger, so pulses are never missed between samples);
the cumulative energy ledger; and the state of charge.
"""
from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .fileio import atomic_path  # noqa: E402
from .units import format_duration as _duration, time_scale as time_axis  # noqa: E402

def render_report(result, path: str | os.PathLike) -> None:
    rows = result.rows
    cols = result.columns
    s = result.summary
    scale, unit = time_axis(max(s.get("duration_s", 1.0), 1e-9))
    fig, axes = plt.subplots(4, 1, figsize=(11, 11.5), sharex=True,
                             gridspec_kw={"height_ratios": [3, 2, 2, 1.3]})
    title = s.get("scenario") or "sysim run"
    fig.suptitle(title, fontsize=13, fontweight="bold", x=0.01, ha="left")
    fig.text(0.01, 0.955, _headline(s), fontsize=9, ha="left", color="#444444")
    if len(rows) == 0:
        for ax in axes:
            ax.text(0.5, 0.5, "no samples recorded", ha="center", va="center", transform=ax.transAxes)
        _save(fig, path)
        return
    t = rows[:, cols.index("time_s")] / scale
    v = rows[:, cols.index("voltage_V")]

    ax = axes[0]
    ax.plot(t, v, color="#1f5fa8", lw=1.2, label="terminal voltage (sampled)")
    for name in cols:
        if name.startswith("cell") and name.endswith("_V"):
            ax.plot(t, rows[:, cols.index(name)], lw=0.8, alpha=0.7, label=name.replace("_V", " voltage"))
    scenario = result.scenario
    storage = getattr(scenario, "storage", None)
    series = getattr(storage, "series", 1) or 1
    if storage is not None and getattr(storage, "v_min", None) is not None:
        ax.axhline(storage.v_min * series, color="#c0392b", ls="--", lw=1, label=f"brown-out {storage.v_min * series:g} V")
    if storage is not None and getattr(storage, "v_max", None) is not None:
        ax.axhline(storage.v_max * series, color="#8e44ad", ls="--", lw=1, label=f"over-voltage {storage.v_max * series:g} V")
    if "loads_on" in cols:
        off = rows[:, cols.index("loads_on")] < 0.5
        if off.any():
            ax.fill_between(t, 0, 1, where=off, transform=ax.get_xaxis_transform(), color="#c0392b",
                            alpha=0.12, step="post", label="loads cut (brown-out)")
    vmin = s.get("min_voltage_V")
    if vmin is not None and math.isfinite(vmin):
        ax.plot([s.get("time_of_min_voltage_s", 0.0) / scale], [vmin], "v", color="#c0392b", ms=7,
                label=f"exact minimum {vmin:.4g} V")
    ax.set_ylabel("storage voltage (V)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8, ncol=2)

    ax = axes[1]
    dt = np.diff(rows[:, cols.index("time_s")])
    if len(dt) and np.all(dt > 0):
        tm = t[1:]
        for name, color, label in (("energy_harvested_J", "#27ae60", "harvested"),
                                   ("energy_to_loads_J", "#e67e22", "to loads"),
                                   ("energy_lost_J", "#7f8c8d", "losses")):
            p = np.diff(rows[:, cols.index(name)]) / dt
            if np.any(p > 0):
                # drop rounding residue (cumulative sums differenced) far below the signal
                floor = 1e-9 * np.nanmax(p)
                ax.step(tm, np.where(p > floor, p, np.nan), where="pre", color=color, lw=1.1, label=label)
        if ax.lines:
            ax.set_yscale("log")
            ax.legend(loc="best", fontsize=8)
    ax.set_ylabel("mean power per\nsample interval (W)")
    ax.grid(alpha=0.3, which="both")

    ax = axes[2]
    stored0 = rows[0, cols.index("stored_energy_J")]
    for name, color, label in (("energy_harvested_J", "#27ae60", "harvested"),
                               ("energy_to_loads_J", "#e67e22", "delivered to loads"),
                               ("energy_lost_J", "#7f8c8d", "lost (ESR, leakage, converters)")):
        ax.plot(t, rows[:, cols.index(name)], color=color, lw=1.3, label=label)
    ax.plot(t, rows[:, cols.index("stored_energy_J")] - stored0, color="#1f5fa8", lw=1.0, ls=":",
            label="change in stored energy")
    ax.set_ylabel("cumulative energy (J)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)

    ax = axes[3]
    soc = rows[:, cols.index("soc")]
    if np.all(np.isnan(soc)):
        ax.plot(t, rows[:, cols.index("stored_energy_J")], color="#16a085", lw=1.2)
        ax.set_ylabel("stored energy (J)")
    else:
        ax.plot(t, 100 * soc, color="#16a085", lw=1.2)
        ax.set_ylabel("state of charge (%)")
    ax.grid(alpha=0.3)
    ax.set_xlabel(f"time ({unit})")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    _save(fig, path)


def _headline(s: dict) -> str:
    def fmt(key, unit, spec=".4g"):
        value = s.get(key)
        return "n/a" if value is None else f"{value:{spec}} {unit}"
    brown = s.get("brownouts", 0)
    first = s.get("first_brownout_s")
    brown_txt = f"{brown} brown-out(s)" + (f", first after {_duration(first)}" if first is not None else "")
    return (f"final {fmt('final_voltage_V', 'V')} · min {fmt('min_voltage_V', 'V')} · "
            f"harvested {fmt('energy_harvested_J', 'J')} · to loads {fmt('energy_to_loads_J', 'J')} · "
            f"{brown_txt} · uptime {100 * s.get('uptime_fraction', 1.0):.3g} %")


def _save(fig, path) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
