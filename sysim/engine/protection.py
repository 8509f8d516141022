"""Brown-out and over-voltage protection of the storage, judged per cell, with hysteresis.

* Brown-out: when any cell's terminal voltage (including the ESR dip of a pulse) falls below
  ``v_min`` every load is cut. After ``restart_delay`` (the power-on-reset delay of the node) the
  loads come back once every cell is at or above ``v_min + v_min_hysteresis`` with the loads off.
  If switching the loads back on drops a cell below ``v_min`` at once, that is a new brown-out:
  the brown-out loop of a real node, counted as such.
* Over-voltage: when any cell's internal (open-circuit) voltage reaches ``v_max``, charging stops
  being free: the harvest is throttled to what holds the store level ("OV clamp: harvest throttled
  to the load current", models-and-numerics.md §3.3; sysim.engine.hold). Charging resumes when
  the harvest can no longer hold it and every cell has fallen to ``v_max - v_max_hysteresis``. The
  internal voltage is
  used because the ESR step of the charging current itself must not toggle the comparator.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .walk import Watch


@dataclass(frozen=True)
class ProtectionSettings:
    v_min: float | None = None            # V per cell
    v_max: float | None = None            # V per cell
    v_min_hysteresis: float = 0.05        # V
    v_max_hysteresis: float = 0.05        # V
    restart_delay: float = 1e-3           # s


class Protection:
    def __init__(self, settings: ProtectionSettings, cell_outputs: tuple[int, ...]):
        self.s = settings
        self.cells = cell_outputs
        self.loads_on = True
        self.charging = True
        self.restore_pending: set[int] = set()
        self.release_pending: set[int] = set()  # cells that still have to fall below the OV release level
        self.brownouts = 0
        self.first_brownout: float | None = None
        self.ov_events = 0
        self._off_since: float | None = None
        self.downtime = 0.0

    def watches(self) -> list[Watch]:
        s, out = self.s, []
        if s.v_min is not None:
            if self.loads_on:
                out += [Watch(k, s.v_min, "falling", ("brownout", k)) for k in self.cells]
            else:
                out += [Watch(k, s.v_min + s.v_min_hysteresis, "rising", ("restore", k))
                        for k in self.cells if k in self.restore_pending]
        if s.v_max is not None:
            if self.charging:
                out += [Watch(k, s.v_max, "rising", ("overvoltage", k), with_current=False) for k in self.cells]
            else:
                out += [Watch(k, s.v_max - s.v_max_hysteresis, "falling", ("ov_release", k), with_current=False)
                        for k in self.cells if k in self.release_pending]
        return out

    def handle(self, key, t: float, cell_voltage) -> str | None:
        """Act on a crossing; returns ``"brownout"`` when the loads were just cut (the caller
        then schedules :meth:`arm_restore` after the restart delay)."""
        kind = key[0]
        if kind == "brownout" and self.loads_on:
            self.loads_on = False
            self.restore_pending = set()
            self.brownouts += 1
            self._off_since = t
            if self.first_brownout is None:
                self.first_brownout = t
            return "brownout"
        if kind == "restore":
            self.restore_pending.discard(key[1])
            if not self.restore_pending:
                level = self.s.v_min + self.s.v_min_hysteresis
                low = {k for k in self.cells if cell_voltage(k) < level * (1 - 1e-12)}
                if low:
                    self.restore_pending = low
                else:
                    self.loads_on = True
                    self.downtime += t - self._off_since
                    self._off_since = None
            return None
        if kind == "overvoltage" and self.charging:
            self.charging = False
            self.ov_events += 1
            # every cell must be at or below the release level before charging resumes; cells
            # already there fire (and drop out) at once
            self.release_pending = set(self.cells)
        elif kind == "ov_release":
            self.release_pending.discard(key[1])
            if not self.release_pending:
                self.charging = True
        return None

    def arm_restore(self) -> None:
        if not self.loads_on:
            self.restore_pending = set(self.cells)

    def uptime(self, t_end: float) -> float:
        down = self.downtime + (t_end - self._off_since if self._off_since is not None else 0.0)
        return 1.0 - down / t_end if t_end > 0 else 1.0
