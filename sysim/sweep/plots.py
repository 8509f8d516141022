"""Heatmaps, contours, lines and scatter plots of a sweep's outputs (PNG, written atomically).

Each ``[[plot]]`` draws output ``z`` over axes ``x`` (and ``y``); points that differ only in the
other axes (Monte-Carlo samples, weather years…) are reduced with ``reduce`` (mean, min, max or
median). Points that failed (``status = "error"``) or lack ``z`` are left out (empty cells).
Values with units are plotted in the unit of the axis's first value; an axis whose values are
not numbers (named cases) is categorical.
"""
from __future__ import annotations

import os
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sysim.fileio import atomic_path  # noqa: E402
from sysim.sizing.parameter import NUMBER_WITH_UNIT  # noqa: E402
from sysim.units import check_expression, ureg  # noqa: E402

from .points import Axis, Study  # noqa: E402
from .spec import PlotTable  # noqa: E402

REDUCE = {"mean": np.mean, "min": np.min, "max": np.max, "median": np.median}


def render_plots(study: Study, records: list[dict], out_dir) -> list:
    """Every ``[[plot]]`` of the study; returns the files written."""
    axes = {a.label: a for a in study.axes}
    ok = [r for r in records if r["status"] == "ok"]
    written = []
    for plot in study.spec.plot:
        path = os.path.join(out_dir, plot.filename)
        fig, ax = plt.subplots(figsize=(8.5, 6.2))
        draw = {"heatmap": _heatmap, "contour": _contour, "line": _line, "scatter": _scatter}[plot.kind]
        has_data = draw(ax, fig, plot, axes, ok)
        if not has_data:
            ax.text(0.5, 0.5, f"no finished point has {plot.z}", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{study.name}\n{plot.z}" + (f" ({plot.reduce} over the other axes)" if _reduced(plot, axes) else ""),
                     fontsize=10)
        fig.tight_layout()
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=110, format="png")
        plt.close(fig)
        written.append(path)
    return written


def _reduced(plot: PlotTable, axes: dict) -> bool:
    return plot.kind != "scatter" and len(axes) > (2 if plot.y else 1)


def numeric(values: list) -> tuple[np.ndarray | None, str]:
    """Axis values as floats in the first value's unit, or (None, "") when they are not numbers."""
    out, unit = [], None
    for value in values:
        if isinstance(value, bool):
            return None, ""
        if isinstance(value, (int, float)):
            q = ureg.Quantity(float(value), unit or "")
        elif isinstance(value, str):
            try:
                check_expression(value)  # pint would evaluate "9**9**9 s" for hours
                q = ureg.Quantity(value.replace("µ", "u").replace("μ", "u"))
            except Exception:
                return None, ""
            if not hasattr(q, "units"):
                q = ureg.Quantity(float(q), "")
        else:
            return None, ""
        if unit is None:
            unit = q.units
        try:
            out.append(float(q.to(unit).magnitude))
        except Exception:
            return None, ""
    return np.array(out), (f"{unit:~P}" if unit is not None and str(unit) != "dimensionless" else "")


def _grid(plot: PlotTable, axes: dict, records: list[dict]):
    """Reduced z on the (x, y) grid of axis entries: (x labels, y labels, Z[y, x])."""
    xs = [label for label, _ in axes[plot.x].entries]
    ys = [label for label, _ in axes[plot.y].entries] if plot.y else [None]
    cells = defaultdict(list)
    for r in records:
        z = r["outputs"].get(plot.z)
        if z is None:
            continue
        cells[(_key(r["labels"].get(plot.x)), _key(r["labels"].get(plot.y)) if plot.y else None)].append(float(z))
    grid = np.full((len(ys), len(xs)), np.nan)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            values = cells.get((_key(x), _key(y) if plot.y else None))
            if values:
                grid[j, i] = REDUCE[plot.reduce](values)
    return xs, ys, grid


def _key(value):
    return repr(value)


def _label(axis: Axis, unit: str) -> str:
    return axis.label + (f" ({unit})" if unit else "")


def _heatmap(ax, fig, plot, axes, records) -> bool:
    xs, ys, grid = _grid(plot, axes, records)
    mesh = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    fig.colorbar(mesh, ax=ax, label=plot.z)
    _ticks(ax.set_xticks, ax.set_xticklabels, xs)
    _ticks(ax.set_yticks, ax.set_yticklabels, ys)
    if grid.size <= 225:
        finite = grid[np.isfinite(grid)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (j, i), value in np.ndenumerate(grid):
            if np.isfinite(value):
                ax.text(i, j, f"{value:.3g}", ha="center", va="center", fontsize=7,
                        color="white" if value < mid else "black")
    ax.set_xlabel(axes[plot.x].label)
    ax.set_ylabel(axes[plot.y].label)
    return bool(np.isfinite(grid).any())


def _ticks(set_ticks, set_labels, labels) -> None:
    set_ticks(range(len(labels)))
    set_labels([short(v) for v in labels], fontsize=8, rotation=0)


def short(value) -> str:
    """``"21.5443469003 mF"`` -> ``"21.54 mF"``; anything else as it is."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        match = NUMBER_WITH_UNIT.match(value)
        if match:
            return f"{float(match.group(1)):.4g} {match.group(2)}".strip()
    return str(value)


def _contour(ax, fig, plot, axes, records) -> bool:
    xs, ys, grid = _grid(plot, axes, records)
    x_num, x_unit = numeric(xs)
    y_num, y_unit = numeric(ys)
    if x_num is None or y_num is None or len(xs) < 2 or len(ys) < 2 or not np.isfinite(grid).any():
        return _heatmap(ax, fig, plot, axes, records)  # categories or too few values: no contours
    levels = 12
    filled = ax.contourf(x_num, y_num, np.ma.masked_invalid(grid), levels=levels, cmap="viridis")
    lines = ax.contour(x_num, y_num, np.ma.masked_invalid(grid), levels=filled.levels, colors="black", linewidths=0.5)
    ax.clabel(lines, fontsize=7, fmt="%.3g")
    fig.colorbar(filled, ax=ax, label=plot.z)
    for axis, setter in ((axes[plot.x], ax.set_xscale), (axes[plot.y], ax.set_yscale)):
        if axis.scale == "log":
            setter("log")
    ax.set_xlabel(_label(axes[plot.x], x_unit))
    ax.set_ylabel(_label(axes[plot.y], y_unit))
    return True


def _line(ax, fig, plot, axes, records) -> bool:
    xs = [label for label, _ in axes[plot.x].entries] if axes[plot.x].entries else \
        sorted({r["labels"].get(plot.x) for r in records}, key=str)
    x_num, unit = numeric(xs)
    positions = x_num if x_num is not None else np.arange(len(xs))
    by_x = defaultdict(list)
    for r in records:
        z = r["outputs"].get(plot.z)
        if z is not None:
            by_x[_key(r["labels"].get(plot.x))].append(float(z))
    rows = [(p, by_x[_key(x)]) for p, x in zip(positions, xs) if by_x.get(_key(x))]
    if not rows:
        return False
    p = np.array([r[0] for r in rows])
    ax.plot(p, [REDUCE[plot.reduce](v) for _, v in rows], marker="o", color="#1f4e79", label=plot.reduce)
    if any(len(v) > 1 for _, v in rows):
        ax.fill_between(p, [min(v) for _, v in rows], [max(v) for _, v in rows], color="#1f4e79", alpha=0.15,
                        label="min … max over the other axes")
        ax.legend(fontsize=8)
    if x_num is None:
        _ticks(ax.set_xticks, ax.set_xticklabels, xs)
    elif axes[plot.x].scale == "log":
        ax.set_xscale("log")
    ax.set_xlabel(_label(axes[plot.x], unit))
    ax.set_ylabel(plot.z)
    ax.grid(alpha=0.3)
    return True


def _scatter(ax, fig, plot, axes, records) -> bool:
    rows = [r for r in records if r["outputs"].get(plot.z) is not None]
    if not rows:
        return False
    x_num, x_unit = numeric([r["labels"].get(plot.x) for r in rows])
    y_num, y_unit = numeric([r["labels"].get(plot.y) for r in rows])
    if x_num is None or y_num is None:
        ax.text(0.5, 0.5, "scatter plots need numeric axes", ha="center", va="center", transform=ax.transAxes)
        return True
    points = ax.scatter(x_num, y_num, c=[float(r["outputs"][plot.z]) for r in rows], cmap="viridis", s=18)
    fig.colorbar(points, ax=ax, label=plot.z)
    ax.set_xlabel(_label(axes[plot.x], x_unit))
    ax.set_ylabel(_label(axes[plot.y], y_unit))
    ax.grid(alpha=0.3)
    return True
