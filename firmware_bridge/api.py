"""Running a scenario's firmware from Python: ``firmware_bridge.api.run(scenario, runner=...)``."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from sysim.errors import ScenarioError
from sysim.fileio import atomic_path
from sysim.result import Result
from sysim.scenario.loader import Scenario, load

from .channels import ChannelError
from .protocol import ProtocolError
from .runner import FirmwareRunner


class FirmwareStartError(RuntimeError):
    """The agent could not be started (no interpreter, the port cannot be opened...)."""


@dataclass
class FirmwareRun:
    result: Result
    #: (t_s, kind, detail): boot (reset cause), wake, pin ((id, level)), print, exception
    #: (traceback), deepsleep, watchdog, brownout, restore, end, reset, error
    timeline: list = field(default_factory=list)

    @property
    def summary(self) -> dict:
        return self.result.summary

    def events(self, *kinds: str) -> list:
        return [e for e in self.timeline if not kinds or e[1] in kinds]

    def write_events(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["time_s", "event", "detail"])
                for t, kind, detail in self.timeline:
                    if isinstance(detail, tuple):
                        detail = "=".join(str(d) for d in detail)
                    w.writerow([f"{t:.9f}", kind, "" if detail is None else detail])
        return path


def run(scenario: Scenario | str | os.PathLike, *, runner: str | None = None, duration: float | None = None,
        record_every: float | None = None, progress=None, on_step=None) -> FirmwareRun:
    """Run a scenario with a ``[firmware]`` table; ``runner`` overrides ``firmware.runner``."""
    from sysim.api import prepare

    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    if scenario.firmware is None:
        raise ScenarioError(scenario.source, "firmware", "the scenario has no [firmware] table")
    changes = {}
    if runner is not None:
        changes["firmware.runner"] = runner
    if duration is not None:
        changes["simulation.duration"] = duration
        if record_every is None and "record_every" not in scenario.data.get("simulation", {}):
            changes["simulation.record_every"] = duration / 1000.0
    if record_every is not None:
        changes["simulation.record_every"] = record_every
    if changes:
        scenario = scenario.with_changes(changes)
    sim = prepare(scenario, progress=progress, on_step=on_step)
    fw = next(c for c in sim.components if isinstance(c, FirmwareRunner) or c.name == "firmware")
    try:
        raw = sim.run()
    except (ChannelError, ProtocolError) as exc:
        fw.close()
        raise FirmwareStartError(f"{scenario.source}: firmware: {exc}") from None
    finally:
        fw.close()
    return FirmwareRun(Result(raw, scenario), fw.timeline)
