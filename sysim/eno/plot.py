"""eno.png: harvested against consumed per day, the daily net, and the stored energy at the day
boundaries (every 24 h from the start of the run)."""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sysim.fileio import atomic_path  # noqa: E402


def render_eno(report, path: str | os.PathLike) -> None:
    days = report.days
    x = np.array([d.day for d in days], dtype=float)
    fig, (ax_e, ax_n, ax_s) = plt.subplots(3, 1, figsize=(10, 9), sharex=True,
                                           gridspec_kw={"height_ratios": [3, 2, 2]})
    fig.suptitle(f"{report.scenario}: energy-neutral operation", fontsize=12, fontweight="bold", x=0.01, ha="left")
    fig.text(0.01, 0.945, headline(report), fontsize=9, ha="left", color="#444444")
    width = 0.38
    ax_e.bar(x - width / 2, [d.harvested_J for d in days], width, color="#f5b041", label="harvested")
    ax_e.bar(x + width / 2, [d.to_loads_J for d in days], width, color="#2e86c1", label="to loads")
    ax_e.bar(x + width / 2, [d.lost_J for d in days], width, bottom=[d.to_loads_J for d in days],
             color="#aab7b8", label="lost (ESR, leakage, converters)")
    ax_e.set_ylabel("energy per day (J)")
    ax_e.set_ylim(0, ax_e.get_ylim()[1] * 1.18)  # room for the legend above the bars
    ax_e.legend(fontsize=8, loc="upper center", ncol=3)
    ax_e.grid(alpha=0.3, axis="y")

    nets = [d.net_J for d in days]
    ax_n.bar(x, nets, 0.6, color=["#1e8449" if n >= 0 else "#c0392b" for n in nets])
    ax_n.axhline(0, color="black", lw=0.8)
    ax_n.set_ylabel("net (J)\nharvested − consumed")
    ax_n.grid(alpha=0.3, axis="y")

    ax_s.plot([0.5] + [d.day + 0.5 for d in days], [days[0].stored_start_J] + [d.stored_end_J for d in days],
              color="#16a085", marker="o", ms=3, lw=1.2)
    ax_s.set_ylabel("stored energy at\nday boundaries (J)")
    ax_s.set_xlabel("day")
    ax_s.grid(alpha=0.3)
    if len(days) <= 31:
        ax_s.set_xticks(x)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def headline(report) -> str:
    ratio = report.ratio
    parts = [f"harvested/consumed {ratio:.3g}" if np.isfinite(ratio) else "nothing consumed",
             f"{report.deficit_days} deficit day(s)"]
    a = report.autonomy
    if a is not None:
        if a.days is not None:
            parts.append(f"autonomy {a.days:.3g} d from full without harvest")
        elif a.note:
            parts.append(f"autonomy: {a.note}")
        else:
            parts.append(f"autonomy > {a.limit_days:g} d")
    return " · ".join(parts)
