"""Sizing goals: what a run must achieve, how far it is from achieving it, and when a run has
certainly failed (so a sizing candidate can stop early).

``no-brownout``    no brown-out over the whole run.
``margin:0.2V``    no brown-out, and the exact minimum terminal voltage stays at least 0.2 V above
                   the brown-out level of the terminal (``series × v_min``).
``uptime:99%``     the loads are powered at least 99 % of the time (``uptime_fraction``).

The voltage margin of a run is ``min_voltage_V - series × v_min`` (V): the exact minimum of the
terminal voltage, including the ESR dip inside the shortest pulse, against the brown-out level.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sysim.errors import ScenarioError
from sysim.units import UnitError, parse_quantity

GOAL_HELP = 'no-brownout | margin:<voltage> (e.g. "margin:0.2V") | uptime:<percent> (e.g. "uptime:99%")'


@dataclass(frozen=True)
class Goal:
    kind: str                   # "no-brownout" | "margin" | "uptime"
    margin_V: float = 0.0       # required voltage margin (kind "margin")
    uptime: float = 1.0         # required uptime fraction (kind "uptime")

    @property
    def text(self) -> str:
        if self.kind == "margin":
            return f"margin:{self.margin_V:g}V"
        if self.kind == "uptime":
            return f"uptime:{100 * self.uptime:g}%"
        return "no-brownout"

    @property
    def describes(self) -> str:
        if self.kind == "margin":
            return f"no brown-out and at least {self.margin_V:g} V above the brown-out level"
        if self.kind == "uptime":
            return f"loads powered at least {100 * self.uptime:g} % of the time"
        return "no brown-out"

    # --- judging a finished run ---------------------------------------------------------------
    def met(self, summary: dict, threshold_V: float | None) -> bool:
        if self.kind == "uptime":
            return summary["uptime_fraction"] >= self.uptime * (1 - 1e-12)
        if summary["brownouts"] > 0:
            return False
        if self.kind == "margin":
            return summary["min_voltage_V"] - threshold_V >= self.margin_V * (1 - 1e-12) - 1e-12
        return True

    # --- stopping a run whose outcome is certain ----------------------------------------------
    def failure_is_certain(self, sim, threshold_V: float | None) -> bool:
        """True once the running simulation ``sim`` can no longer meet the goal."""
        protection = sim.protection
        if self.kind == "uptime":
            now = sim.now
            downtime_s = (1.0 - protection.uptime(now)) * now if now > 0 else 0.0
            return downtime_s > (1.0 - self.uptime) * sim.t_end * (1 + 1e-12)
        if protection.brownouts > 0:
            return True
        if self.kind == "margin":
            return sim.stepper.v_min - threshold_V < self.margin_V * (1 - 1e-12) - 1e-12
        return False


def voltage_margin(summary: dict, threshold_V: float | None) -> float | None:
    """``min_voltage_V - threshold_V`` (V), None without a brown-out level."""
    if threshold_V is None:
        return None
    return summary["min_voltage_V"] - threshold_V


def brownout_level(scenario) -> float | None:
    """Terminal voltage at which the loads are cut: ``series × v_min`` (V), None if no v_min."""
    storage = scenario.storage
    if storage.v_min is None:
        return None
    return storage.v_min * storage.series


def parse_goal(text: str, option: str = "--goal") -> Goal:
    """``"no-brownout"``, ``"margin:0.2V"`` / ``"margin:200 mV"``, ``"uptime:99%"`` / ``"uptime:0.99"``."""
    if not isinstance(text, str):
        raise ScenarioError(None, option, f"expected one of {GOAL_HELP}")
    raw = text.strip()
    name, _, arg = raw.partition(":")
    name = name.strip().lower().replace("_", "-")
    if name in ("no-brownout", "nobrownout", "no-brown-out") and not arg:
        return Goal("no-brownout")
    if name == "margin" and arg:
        try:
            volts = parse_quantity(arg.strip(), "voltage")
        except UnitError as exc:
            raise ScenarioError(None, option, f"margin: {exc}") from None
        if volts < 0:
            raise ScenarioError(None, option, "margin must not be negative")
        return Goal("margin", margin_V=volts)
    if name == "uptime" and arg:
        fraction = _fraction(arg.strip())
        if fraction is None or not 0.0 < fraction <= 1.0:
            raise ScenarioError(None, option, f"uptime must be a percentage in (0, 100] %, got {arg.strip()!r}")
        return Goal("uptime", uptime=fraction)
    raise ScenarioError(None, option, f"unknown goal {raw!r}; expected {GOAL_HELP}")


def _fraction(text: str) -> float | None:
    match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)", text)
    if not match:
        return None
    value = float(match.group(1))
    return value / 100.0 if match.group(2) else value


def require_threshold(goal: Goal, scenario) -> float | None:
    """The brown-out level the goal needs; ScenarioError naming ``storage.v_min`` if it is missing."""
    level = brownout_level(scenario)
    if level is None and goal.kind in ("no-brownout", "margin"):
        raise ScenarioError(scenario.source, "storage.v_min",
                            f"not set, so there is no brown-out and the goal {goal.text!r} is meaningless")
    if goal.kind == "uptime" and level is None:
        raise ScenarioError(scenario.source, "storage.v_min",
                            "not set, so the loads are never cut and uptime is always 100 %")
    return level
