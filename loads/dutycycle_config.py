"""Scenario table ``type = "duty-cycle"``: a node's duty cycle written as data (no code).

    [[load]]
    type = "duty-cycle"
    name = "node"
    rail = "ldo"
    period = "60 s"                    # one cycle
    mcu = "stm32l0-mcu"                # optional: sleeps between tasks, active while a task keeps it awake
    sleep_current = "0.3 uA"           # anything else drawn all the time
    tasks = [
      { name = "wake",   duration = "2 ms" },                       # MCU alone
      { name = "sample", device = "bme280-forced-1hz" },            # one event of a library load
      { name = "uplink", device = { type = "lora", spreading_factor = 9, payload = 20 }, every = 10, awake = false },
    ]

Tasks due in a cycle run back to back from its start, in order; a task runs in the cycles
``c`` with ``c mod every == phase``. A ``device`` is a library load (a preset name, a type name, or
an inline table): its event runs as the task and its floor (asleep) is drawn the rest of the time.
See :mod:`loads.dutycycle` for the compiled timeline and its average current.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, PrivateAttr, field_validator, model_validator

from sysim.errors import ScenarioError
from sysim.scenario.fields import Count, Quantity, Table
from sysim.scenario.loader import resolve
from sysim.scenario.registry import LOADS, register_load

from .config import LoadCommon, PhaseTable
from .dutycycle import Task, compile_duty_cycle
from .states import LoadEvent, RailState, Timeline

_DEVICE_ONLY = ("rail", "v_min", "name")


def _resolve_device(value: Any, info) -> Any:
    """A device reference (preset name, type name or inline table) as a validated load table."""
    if isinstance(value, LoadCommon):
        return value
    data = {"type": value} if isinstance(value, str) else value
    if not isinstance(data, dict):
        raise ValueError("expected a preset or type name, or a table with a type")
    for key in _DEVICE_ONLY:
        if key in data:
            raise ValueError(f"{key} belongs to the duty-cycle load, not to a device")
    context = info.context or {}
    try:
        return resolve(dict(data), "device", "type", LOADS, context.get("source", "<scenario>"), context)
    except ScenarioError as exc:
        sub = exc.key[len("device."):] if exc.key and exc.key.startswith("device.") else ""
        raise ValueError(f"{sub}: {exc.reason}" if sub else exc.reason) from None


class TaskTable(Table):
    """One task of a duty cycle: a device's event, a list of states, or one state."""

    name: Optional[str] = None
    every: Count(1, 1_000_000) = 1
    phase: Count(0, 999_999) = 0
    #: whether the MCU is awake (active current) during the task's states (not during idle waits)
    awake: bool = True
    device: Optional[Any] = None
    states: Optional[list[PhaseTable]] = Field(default=None, max_length=10_000)
    current: Quantity("current", non_negative=True) = 0.0
    power: Quantity("power", non_negative=True) = 0.0
    duration: Optional[Quantity("time", positive=True)] = None

    @field_validator("device", mode="before")
    @classmethod
    def _device(cls, value, info):
        return None if value is None else _resolve_device(value, info)

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k, v in (("device", self.device), ("states", self.states), ("duration", self.duration))
                 if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of device, states or duration (with current or power)")
        if self.duration is None and (self.current or self.power):
            raise ValueError("current and power go with duration")
        if self.phase >= self.every:
            raise ValueError(f"phase must be 0..every-1 (every = {self.every})")
        return self


class DutyCycleTable(LoadCommon):
    period: Quantity("time", positive=True)
    tasks: list[TaskTable] = Field(min_length=1, max_length=1000)
    mcu: Optional[Any] = None
    sleep_current: Quantity("current", non_negative=True) = 0.0
    #: drawn in addition while a task keeps the MCU awake (added to the mcu's active current)
    awake_current: Quantity("current", non_negative=True) = 0.0
    offset: Quantity("time", non_negative=True) = 0.0
    _timeline: Optional[Timeline] = PrivateAttr(default=None)

    @field_validator("mcu", mode="before")
    @classmethod
    def _mcu(cls, value, info):
        if value is None:
            return None
        table = _resolve_device(value, info)
        if table.type != "mcu":
            raise ValueError(f"expected an MCU (type = \"mcu\"), got type {table.type!r}")
        return table

    @model_validator(mode="after")
    def _compiles(self):
        self.compiled()  # fails here, at validation, when the tasks do not fit the period
        return self

    def _tasks(self) -> list[Task]:
        tasks = []
        for k, t in enumerate(self.tasks):
            name = t.name or f"task{k}"
            if t.device is not None:
                event, device = t.device.event(None), f"device{k}:{t.device.model_dump_json()}"
            elif t.states is not None:
                event, device = LoadEvent(tuple(s.state(name) for s in t.states)), None
            else:
                event, device = LoadEvent((RailState(t.duration, t.current, t.power, label=name),)), None
            tasks.append(Task(name, event, t.every, t.phase, t.awake, device))
        # one device used by several tasks (same settings) has one floor
        keys: dict[str, str] = {}
        for task in tasks:
            if task.device is not None:
                body = task.device.split(":", 1)[1]
                keys.setdefault(body, task.device)
        return [Task(t.name, t.event, t.every, t.phase, t.awake, keys[t.device.split(":", 1)[1]])
                if t.device is not None else t for t in tasks]

    def sleep_states(self) -> tuple[RailState, ...]:
        states = [RailState(0.0, self.sleep_current, label="sleep")]
        if self.mcu is not None:
            states.append(RailState(0.0, self.mcu.sleep_current, label="mcu sleep", thermal=True))
        return tuple(states)

    def temperature_factor(self):
        return self.mcu.temperature_factor() if self.mcu is not None else None

    def awake_state(self) -> RailState:
        active = self.mcu.active_A() - self.mcu.sleep_current if self.mcu is not None else 0.0
        return RailState(0.0, active + self.awake_current, label="mcu active")

    def compiled(self) -> Timeline:
        if self._timeline is None:
            self._timeline = compile_duty_cycle(self.period, self._tasks(), self.sleep_states(), self.awake_state(),
                                                self.offset)
        return self._timeline

    def timeline(self, ctx) -> Timeline:
        return self.compiled()

    def event(self, ctx) -> LoadEvent:
        raise ValueError("a duty cycle cannot be a device of another duty cycle")

    def task_list(self) -> list[Task]:
        """The compiled tasks (with their events), e.g. to compute the average current."""
        return self._tasks()


register_load("duty-cycle", DutyCycleTable)
