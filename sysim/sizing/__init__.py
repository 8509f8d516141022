"""Storage and harvester sizing: the smallest value of one scenario parameter that meets a goal.

    import sysim
    from sysim.sizing import size
    result = size(sysim.load("node.toml"), "storage.capacitance", "1 mF..1 F", "no-brownout")
    result.answer, result.parameter.display(result.answer), result.answer_evaluation.voltage_margin_V

Any dotted key the scenario accepts can be varied (``storage.capacitance``, ``storage.capacity``,
``storage.parallel``, ``harvester[0].area``, ``load[0].period``...); the method and its guarantee
are in :mod:`sysim.sizing.search`, the goals in :mod:`sysim.sizing.goals`.
"""
from __future__ import annotations

from sysim.evaluate import run_scenario, scalar_outputs
from sysim.scenario.loader import Scenario

from .goals import Goal, brownout_level, parse_goal, require_threshold, voltage_margin
from .parameter import Parameter, parse_range
from .search import Evaluation, SizingResult, search

__all__ = ["size", "Goal", "Parameter", "SizingResult", "Evaluation", "parse_goal", "parse_range"]


def size(scenario: Scenario, key: str, value_range: str | Parameter, goal: str | Goal = "no-brownout", *,
         tolerance: float = 1e-3, grid_points: int = 7, duration: float | None = None,
         report=None) -> SizingResult:
    """Search ``key`` over ``value_range`` (``"LOW..HIGH"`` with units) for the smallest value
    that meets ``goal``; ``tolerance`` is relative (1e-3 = 0.1 %), ``grid_points`` the coarse
    monotonicity grid, ``duration`` (s) overrides the scenario's. ``report(evaluation, i, n)``
    is called after each run. Raises ScenarioError for a key or range the scenario rejects."""
    if duration is not None:
        scenario = scenario.with_changes({"simulation.duration": duration})
    goal = parse_goal(goal) if isinstance(goal, str) else goal
    require_threshold(goal, scenario)  # fail early when the goal needs a v_min that is not set
    parameter = value_range if isinstance(value_range, Parameter) else parse_range(value_range, key, scenario)
    # Both ends must be values the scenario accepts: fail on a bad key or unit before any run.
    for end in (parameter.low, parameter.high):
        scenario.with_changes({key: parameter.value(end)})

    def evaluate(x: float, complete: bool) -> Evaluation:
        candidate = scenario.with_changes({key: parameter.value(x)})
        level = brownout_level(candidate)  # per candidate: the varied key may be storage.series
        stop = None if complete else (lambda sim: goal.failure_is_certain(sim, level))
        run = run_scenario(candidate, stop=stop)
        summary = scalar_outputs(run.summary)
        met = (not run.stopped_early) and goal.met(summary, level)
        return Evaluation(x, met, summary, not run.stopped_early, voltage_margin(summary, level), "grid")

    result = search(evaluate, parameter, goal, tolerance=tolerance, grid_points=grid_points, report=report)
    result.scenario_name = scenario.name
    return result
