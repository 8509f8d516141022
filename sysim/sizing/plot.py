"""The margin curve of a sizing search (PNG, written atomically).

Top panel: the voltage margin (exact minimum terminal voltage minus the brown-out level, V)
against the varied parameter, with the required margin as a line; bottom panel: the uptime. The
coarse-grid runs are complete runs and form the curves; bisection candidates are marked on the
parameter axis (filled: met, open: failed, possibly stopped early); the answer is a vertical line.
"""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sysim.fileio import atomic_path  # noqa: E402

from .search import SizingResult  # noqa: E402

PASS, FAIL, ANSWER = "#1e8449", "#c0392b", "#1f4e79"


def render_margin_curve(result: SizingResult, path: str | os.PathLike) -> None:
    p, goal = result.parameter, result.goal
    complete = sorted((e for e in result.evaluations if e.complete), key=lambda e: e.x)
    partial = [e for e in result.evaluations if not e.complete]
    fig, (ax_v, ax_u) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    title = f"{result.scenario_name}: {p.key} for {goal.text}"
    fig.suptitle(title, fontsize=12, fontweight="bold", x=0.01, ha="left")
    fig.text(0.01, 0.935, _headline(result), fontsize=9, ha="left", color="#444444")

    xs = [e.x for e in complete]
    if any(e.voltage_margin_V is not None for e in complete):
        ax_v.plot(xs, [_nan(e.voltage_margin_V) for e in complete], color="#555555", lw=1.2, zorder=1)
        ax_v.scatter(xs, [_nan(e.voltage_margin_V) for e in complete], s=30, zorder=3,
                     color=[PASS if e.met else FAIL for e in complete])
        if partial:  # stopped at the failure: the margin so far is an upper bound
            ax_v.scatter([e.x for e in partial], [_nan(e.voltage_margin_V) for e in partial], s=30, zorder=3,
                         facecolors="none", edgecolors=FAIL, label="failed (run stopped early)")
    required = goal.margin_V if goal.kind == "margin" else 0.0
    ax_v.axhline(required, color=FAIL, ls="--", lw=1, label=f"required margin {required:g} V")
    ax_v.set_ylabel("voltage margin (V)\nmin terminal V − brown-out level")
    ax_v.grid(alpha=0.3)

    uptimes = [100 * e.summary["uptime_fraction"] for e in complete]
    ax_u.plot(xs, uptimes, color="#555555", lw=1.2, zorder=1)
    ax_u.scatter(xs, uptimes, s=30, zorder=3, color=[PASS if e.met else FAIL for e in complete])
    if goal.kind == "uptime":
        ax_u.axhline(100 * goal.uptime, color=FAIL, ls="--", lw=1, label=f"required {100 * goal.uptime:g} %")
    ax_u.set_ylabel("uptime (%)")
    ax_u.grid(alpha=0.3)

    for ax in (ax_v, ax_u):
        for e in result.evaluations:
            if e.stage == "bisection":
                ax.axvline(e.x, ymin=0, ymax=0.04, color=PASS if e.met else FAIL, lw=1.5)
        if result.answer is not None:
            ax.axvline(result.answer, color=ANSWER, lw=1.5,
                       label=f"answer {p.display(result.answer)}" if ax is ax_v else None)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(loc="best", fontsize=8)
    if p.log_scale:
        ax_u.set_xscale("log")
    ax_u.set_xlabel(f"{p.key}" + (f" ({p.unit})" if p.unit else ""))
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def _nan(value):
    return float("nan") if value is None else value


def _headline(result: SizingResult) -> str:
    p = result.parameter
    runs = f"{len(result.evaluations)} runs ({len(result.grid)} on the grid)"
    if result.answer is None:
        return f"{result.status}: no answer in {p.display(p.low)} … {p.display(p.high)} · {runs}"
    word = "smallest" if result.direction == "smallest" else "largest"
    return f"{word} value meeting the goal: {p.display(result.answer)} · {runs}"
