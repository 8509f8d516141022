"""Grid-then-bisection search for the smallest parameter value that meets a goal.

1. A coarse grid over ``[LOW, HIGH]`` (logarithmic when LOW > 0 and HIGH/LOW ≥ 4, else linear;
   whole numbers for integer keys) is run in full. Its pass/fail pattern must change at most once:
   fail…fail pass…pass (the goal gets easier as the value grows: the answer is the *smallest* value
   that meets it) or pass…pass fail…fail (harder as it grows: the answer is the *largest*). More
   than one change means the goal is not monotone in the parameter over the range, and bisection
   would be meaningless; the search stops and says so.
2. The bracket around the change is bisected (geometric midpoints on a log scale, arithmetic
   otherwise; integer midpoints for integer keys) until it is narrower than ``tolerance`` × the
   answer, or one unit for integer keys. Candidates that certainly fail may stop early.

Guarantee (for a goal monotone in the parameter): the true threshold lies in the final bracket,
so the reported value meets the goal and exceeds the exact smallest value by at most
``tolerance`` (relative); integer answers are exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .goals import Goal
from .parameter import Parameter

MAX_BISECTIONS = 64


@dataclass
class Evaluation:
    x: float                        # parameter value, in the parameter's unit
    met: bool
    summary: dict                   # scalar outputs of the run
    complete: bool                  # False when the run stopped early on a certain failure
    voltage_margin_V: float | None  # min terminal voltage - brown-out level (V)
    stage: str                      # "grid" | "bisection"


@dataclass
class SizingResult:
    parameter: Parameter
    goal: Goal
    #: "ok", "met-everywhere" (LOW already meets it), "met-nowhere", "not-monotone"
    status: str
    #: "smallest" (goal easier as the value grows) or "largest"
    direction: str = "smallest"
    answer: float | None = None
    #: the neighbouring value that fails the goal (the other end of the final bracket)
    failing: float | None = None
    tolerance: float = 1e-3
    evaluations: list[Evaluation] = field(default_factory=list)
    scenario_name: str = ""

    @property
    def answer_evaluation(self) -> Evaluation | None:
        return self._at(self.answer)

    @property
    def failing_evaluation(self) -> Evaluation | None:
        return self._at(self.failing)

    def _at(self, x) -> Evaluation | None:
        if x is None:
            return None
        return next((e for e in reversed(self.evaluations) if e.x == x), None)

    @property
    def grid(self) -> list[Evaluation]:
        return [e for e in self.evaluations if e.stage == "grid"]


def grid_values(p: Parameter, points: int) -> list[float]:
    if points < 3:
        raise ValueError("the coarse grid needs at least 3 points")
    if p.integer:
        raw = np.geomspace(p.low, p.high, points) if p.low > 0 else np.linspace(p.low, p.high, points)
        return sorted({int(round(v)) for v in raw} | {int(p.low), int(p.high)})
    values = np.geomspace(p.low, p.high, points) if p.log_scale else np.linspace(p.low, p.high, points)
    values[0], values[-1] = p.low, p.high
    return [float(v) for v in values]


def search(evaluate, p: Parameter, goal: Goal, *, tolerance: float = 1e-3, grid_points: int = 7,
           report=None) -> SizingResult:
    """``evaluate(x, complete: bool) -> Evaluation``; ``complete=False`` lets a certainly failing
    run stop early. ``report(evaluation, index, planned)`` is told about each evaluation."""
    if not 0 < tolerance < 1:
        raise ValueError("tolerance must be between 0 and 1")
    result = SizingResult(p, goal, "ok", tolerance=tolerance)
    grid = grid_values(p, grid_points)
    for i, x in enumerate(grid):
        e = evaluate(x, True)
        result.evaluations.append(e)
        if report:
            report(e, i, len(grid))
    met = [e.met for e in result.evaluations]
    changes = [i for i in range(len(met) - 1) if met[i] != met[i + 1]]
    if len(changes) > 1:
        result.status = "not-monotone"
        return result
    if not changes:
        if all(met):
            result.status, result.answer = "met-everywhere", grid[0]
        else:
            result.status = "met-nowhere"
        return result
    i = changes[0]
    lo, hi = grid[i], grid[i + 1]
    result.direction = "smallest" if met[i + 1] else "largest"
    passing, failing = (hi, lo) if result.direction == "smallest" else (lo, hi)
    for _ in range(MAX_BISECTIONS):
        if _converged(p, passing, failing, tolerance):
            break
        mid = _midpoint(p, lo, hi)
        e = evaluate(mid, False)
        e.stage = "bisection"
        result.evaluations.append(e)
        if report:
            report(e, len(result.evaluations) - 1, None)
        if e.met:
            passing = mid
        else:
            failing = mid
        lo, hi = min(passing, failing), max(passing, failing)
    result.answer, result.failing = passing, failing
    return result


def _converged(p: Parameter, passing: float, failing: float, tolerance: float) -> bool:
    gap = abs(passing - failing)
    if p.integer:
        return gap <= 1
    scale = abs(passing) if passing != 0 else abs(p.high - p.low)
    return gap <= tolerance * scale


def _midpoint(p: Parameter, lo: float, hi: float) -> float:
    if p.integer:
        mid = int(round(math.sqrt(lo * hi))) if lo > 0 else (lo + hi) // 2
        return min(max(mid, lo + 1), hi - 1)
    return math.sqrt(lo * hi) if p.log_scale else 0.5 * (lo + hi)
