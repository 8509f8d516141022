"""Composite duty cycles: tasks (wake, sample, transmit every N samples…) compiled into one timeline.

A duty cycle has a base ``period`` (one cycle). In each cycle the tasks that are due run back to
back from the start of the cycle, in the listed order; the node sleeps for the rest of the cycle.
A task runs in cycles ``c`` with ``c mod every == phase``. The compiled timeline repeats after
``L = lcm(every…)`` cycles and becomes one exact integer-nanosecond periodic schedule.

What flows in each phase (all on the rail, adding up):

* the sleep floor: ``sleep_current`` plus the floor of every distinct device the tasks use (a
  sensor asleep, a radio asleep) plus the MCU's sleep current;
* during a task's state: that state instead of its device's floor, plus the MCU's active current
  (``awake_current``) when the task keeps the MCU awake and the state is not an idle wait.

Average rail current: ``I_floor + Σ_k q_k / (every_k·T)`` where ``q_k`` is task k's charge above
the floor it replaces (its event charge minus its device floor over the event, plus the awake
charge).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce

from .states import LoadEvent, RailState, Timeline

#: the most phases a compiled duty cycle may have (the engine merges larger cycles as windows)
MAX_PHASES = 200_000


@dataclass(frozen=True)
class Task:
    """One task: ``event`` (its states; ``event.floor`` is its device's floor, drawn between runs)."""

    name: str
    event: LoadEvent
    every: int = 1
    phase: int = 0
    awake: bool = True
    device: str | None = None  # identity of the device whose floor the task replaces


def _floor_states(tasks: list[Task]) -> dict[str, RailState]:
    floors: dict[str, RailState] = {}
    for task in tasks:
        if task.device is not None and task.device not in floors:
            floors[task.device] = task.event.floor
    return floors


def compile_duty_cycle(period_s: float, tasks: list[Task], sleep: tuple[RailState, ...] = (),
                       awake: RailState | None = None, origin_s: float = 0.0) -> Timeline:
    """The timeline of a duty cycle (see the module docstring). ``sleep``: floor states always
    drawn (the MCU asleep, other sleep currents); ``awake``: added while a task keeps the MCU awake."""
    if not period_s > 0:
        raise ValueError("the period must be positive")
    for task in tasks:
        if task.every < 1 or not 0 <= task.phase < task.every:
            raise ValueError(f"task {task.name!r}: phase must be 0..every-1")
    floors = _floor_states(tasks)
    base = tuple(sleep) + tuple(floors.values())
    cycles = reduce(math.lcm, (t.every for t in tasks), 1)
    per_cycle = sum(len(t.event.states) / t.every for t in tasks) + 1
    if cycles * per_cycle > MAX_PHASES:
        raise ValueError(f"the tasks repeat only after {cycles} cycles ({cycles * per_cycle:.0f} phases, at most "
                         f"{MAX_PHASES}); choose 'every' values with a smaller least common multiple")
    segments: list[tuple[float, tuple[RailState, ...]]] = []
    for c in range(cycles):
        used = 0.0
        for task in tasks:
            if c % task.every != task.phase:
                continue
            others = tuple(s for key, s in floors.items() if key != task.device)
            for state in task.event.states:
                extra = (awake,) if (task.awake and awake is not None and not state.idle) else ()
                segments.append((state.duration_s, tuple(sleep) + others + (state,) + extra))
                used += state.duration_s
        if used > period_s * (1 + 1e-12):
            raise ValueError(f"the tasks due in cycle {c} last {used:g} s, longer than the period ({period_s:g} s)")
        if period_s - used > 0:
            segments.append((period_s - used, base))
    return Timeline(tuple(segments), cycles * period_s, origin_s)


def task_charge_above_floor(task: Task, awake: RailState | None = None, rail_voltage: float | None = None) -> float:
    """Charge (C) one run of ``task`` adds on top of the floor it replaces."""
    charge = task.event.charge_C(rail_voltage) - task.event.floor.current_at(rail_voltage) * task.event.duration_s \
        if task.device is not None else task.event.charge_C(rail_voltage)
    if task.awake and awake is not None:
        charge += awake.current_at(rail_voltage) * math.fsum(s.duration_s for s in task.event.states if not s.idle)
    return charge
