"""A PV module as a node component: wired straight to the storage through a diode, or feeding a PMIC.

**Direct connection** (no ``[pmic]``; models-and-numerics.md §5.3 item 5): the module charges the
storage through a series diode with a constant forward drop ``V_D``, so at storage terminal
voltage ``V`` it delivers ``I = max(0, I_pv(V + V_D))`` (the diode blocks reverse current at
night). The draw is a ``current_of_voltage`` function: the engine solves it together with the
storage's series resistance and holds it, at the harmonic mean of I(E), over stretches in which
its current changes by at most 5 % with a bounded curvature (sysim.engine.stretch). ``I_pv`` is the explicit Lambert-W solution
(:func:`harvesters.pv_cell.single_diode_current`) with the segment's diode parameters, which pvlib
computed for all light segments when the harvester was built. The ledger books the energy that
reaches the storage terminal as ``harvested/<name>``; the diode's own loss ``V_D·I`` is upstream of
it and not booked.

**Through a PMIC**: :meth:`PVHarvester.pmic_input` gives the PMIC the open-circuit voltage and the
power at ``ratio × V_oc`` per light segment (``pvlib.pvsystem.i_from_v``, vectorised).
"""
from __future__ import annotations

import bisect
import math

import numpy as np

from sysim.engine.component import Component
from sysim.engine.draws import Draw
from sysim.engine.schedule import ConstantSchedule, PiecewiseSchedule, Schedule

from .inputs import InputSegments
from .light import LightSeries
from .pv_cell import PVModule, single_diode_current


class PVHarvester(Component):
    kind = "source"

    def __init__(self, name: str, module: PVModule, light: LightSeries, diode_drop_V: float = 0.2,
                 spectral_factor: float | None = None, duration_s: float | None = None):
        self.name, self.module, self.light = name, module, light
        self.diode_drop_V = float(diode_drop_V)
        if spectral_factor is None:
            factors = module.cell.spectral_factors
            if light.source not in factors:
                raise ValueError(f"the cell has no spectral factor for light source {light.source!r}")
            spectral_factor = factors[light.source]
        self.spectral_factor = float(spectral_factor)
        self.effective_irradiance = light.irradiance * self.spectral_factor
        self.params = module.diode_parameters(self.effective_irradiance, light.temperature_K)
        self.points = module.operating_points(self.params)
        self.duration_s = duration_s
        self._times = [float(t) for t in light.times_s]
        self._schedule = None  # made on first use: behind a PMIC it is never asked for
        self._sim = None

    # --- direct connection ------------------------------------------------------------------
    def _segment_draw(self, k: int) -> tuple[Draw, ...]:
        if self.params.photocurrent[k] <= 0.0:
            return ()
        i_l, i_0, r_s, r_sh, a = self.params.at(k)
        v_d = self.diode_drop_V

        def current(v: float) -> float:
            # negative: it charges the storage; the diode blocks the reverse direction
            return -max(0.0, single_diode_current(v + v_d, i_l, i_0, r_s, r_sh, a))

        return (Draw(self.name, current_of_voltage=current, accounts=((f"harvested/{self.name}", -1.0, 0.0),),
                     label="pv"),)

    def _direct_schedule(self) -> Schedule:
        draws = tuple(self._segment_draw(k) for k in range(len(self._times)))
        if len(draws) == 1:
            return ConstantSchedule(draws[0])
        return PiecewiseSchedule(tuple(self._times), draws)

    def schedule(self, sim) -> Schedule:
        if self._schedule is None:
            self._schedule = self._direct_schedule()
        return self._schedule

    def start(self, sim) -> None:
        self._sim = sim

    # --- feeding a PMIC ---------------------------------------------------------------------
    def pmic_input(self, ratio: float) -> InputSegments:
        v_oc = self.points["v_oc"]
        v_in = ratio * v_oc
        p_in = np.maximum(v_in * self.module.current_at(v_in, self.params), 0.0)
        return InputSegments(self.light.times_s, v_oc, v_in, p_in, self.points["p_mp"])

    # --- reporting --------------------------------------------------------------------------
    def state_columns(self) -> list[str]:
        return [f"{self.name}_irradiance_W_m2"]

    def state_values(self) -> list[float]:
        t = self._sim.now if self._sim is not None else 0.0
        k = max(bisect.bisect_right(self._times, t) - 1, 0)
        return [float(self.light.irradiance[k])]

    def mpp_energy_J(self, t_end: float) -> float:
        """Energy the module offers at its maximum power point from 0 to ``t_end`` (J)."""
        edges = np.append(self.light.times_s, max(t_end, self.light.times_s[-1]))
        spans = np.clip(np.minimum(edges[1:], t_end) - edges[:-1], 0.0, None)
        return float(np.sum(spans * self.points["p_mp"]))

    def summary(self) -> dict:
        t_end = self._sim.now if self._sim is not None else (self.duration_s or 0.0)
        return {f"{self.name}_mpp_energy_J": self.mpp_energy_J(t_end) if math.isfinite(t_end) else None}
