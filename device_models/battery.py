"""Battery / micro-battery: Thevenin model with a piecewise-linear OCV table.

Equations (models-and-numerics.md §2.1, §5.3 item 4)::

    V     = OCV(q) - Σ_k v_k - R0·I
    dq/dt = -I - k_sd·q                        (q: charge above empty, C; k_sd: calendar self-discharge)
    dv_k/dt = -v_k/(R_k·C_k) + I/C_k           (RC pairs: charge transfer, diffusion)

Inside one linear piece of the OCV table, ``OCV = a_j + s_j·q`` and the model is an LTI network;
the piece boundaries are breakpoints (SOC thresholds) at which the output map switches. The state
coordinates ``z = (q, v_1, …, v_n)`` are already modal (the system matrix is diagonal), so the
state carries over unchanged from piece to piece. Self-discharge is SOC-proportional so that a
stated loss per year holds at full charge: ``k_sd = -ln(1 - fraction_per_year)/year``.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from .base import Breakpoint, StorageModel
from .linear import ModalSystem, Output

YEAR_S = 365.25 * 86400.0


@dataclass(frozen=True)
class RCPair:
    resistance: float   # Ω
    capacitance: float  # F


@dataclass
class BatteryParameters:
    capacity: float                       # C (1 mAh = 3.6 C)
    ocv: tuple[tuple[float, float], ...]  # (soc 0..1, volts), soc ascending
    r0: float                             # Ω
    rc: tuple[RCPair, ...] = field(default_factory=tuple)
    self_discharge_per_year: float = 0.0  # fraction of charge lost per year at full charge

    def __post_init__(self):
        if not self.capacity > 0:
            raise ValueError("capacity must be positive")
        if len(self.ocv) < 2:
            raise ValueError("ocv needs at least two [soc, volts] points")
        socs = [p[0] for p in self.ocv]
        volts = [p[1] for p in self.ocv]
        if any(b <= a for a, b in zip(socs, socs[1:])):
            raise ValueError("ocv soc values must be strictly increasing")
        if any(b < a for a, b in zip(volts, volts[1:])):
            raise ValueError("ocv voltages must not decrease with soc")
        if not self.r0 >= 0:
            raise ValueError("r0 must be zero or positive")
        for pair in self.rc:
            if not (pair.resistance > 0 and pair.capacitance > 0):
                raise ValueError("rc resistance and capacitance must be positive")
        if not 0.0 <= self.self_discharge_per_year < 1.0:
            raise ValueError("self_discharge must be between 0 and 100 %/yr")


class Battery(StorageModel):
    """Thevenin battery with a piecewise-linear OCV; starts relaxed (RC voltages zero)."""

    def __init__(self, params: BatteryParameters, initial_soc: float):
        self.params = params
        self.initial_soc = float(initial_soc)
        q = params.capacity
        self._knots_q = [soc * q for soc, _ in params.ocv]
        self._knots_v = [v for _, v in params.ocv]
        self._slopes = [(v1 - v0) / (q1 - q0) for q0, q1, v0, v1 in
                        zip(self._knots_q, self._knots_q[1:], self._knots_v, self._knots_v[1:])]
        # ∫OCV dq from q = 0 (SOC 0) up to each knot, for the exact stored energy.
        self._energy_at_knot = [0.0]
        for j, s in enumerate(self._slopes):
            dq = self._knots_q[j + 1] - self._knots_q[j]
            self._energy_at_knot.append(self._energy_at_knot[-1] + self._knots_v[j] * dq + 0.5 * s * dq * dq)
        shift = self._energy_from_piece(0, 0.0) if self._knots_q[0] > 0 else 0.0
        self._energy_offset = shift
        frac = params.self_discharge_per_year
        self.k_sd = -math.log1p(-frac) / YEAR_S if frac > 0 else 0.0
        self._piece = self.piece_of(initial_soc * q)
        self._systems: dict[int, ModalSystem] = {}

    # --- OCV table -------------------------------------------------------------------------
    def piece_of(self, charge: float) -> int:
        """Index of the linear OCV piece holding ``charge`` (end pieces extend beyond the table)."""
        j = bisect.bisect_right(self._knots_q, charge) - 1
        return min(max(j, 0), len(self._slopes) - 1)

    def ocv(self, charge: float) -> float:
        j = self.piece_of(charge)
        return self._knots_v[j] + self._slopes[j] * (charge - self._knots_q[j])

    def _energy_from_piece(self, j: int, charge: float) -> float:
        dq = charge - self._knots_q[j]
        return self._energy_at_knot[j] + self._knots_v[j] * dq + 0.5 * self._slopes[j] * dq * dq

    def soc_at_voltage(self, volts: float) -> float:
        """SOC whose OCV equals ``volts`` (inverse of the table; flat pieces give their lower edge)."""
        vs, qs = self._knots_v, self._knots_q
        if volts <= vs[0]:
            return qs[0] / self.params.capacity
        if volts >= vs[-1]:
            return qs[-1] / self.params.capacity
        j = bisect.bisect_left(vs, volts) - 1
        j = max(j, 0)
        s = self._slopes[j]
        q = qs[j] if s == 0 else qs[j] + (volts - vs[j]) / s
        return q / self.params.capacity

    # --- StorageModel ----------------------------------------------------------------------
    def modal(self) -> ModalSystem:
        system = self._systems.get(self._piece)
        if system is None:
            system = self._systems[self._piece] = self._build(self._piece)
        return system

    def _build(self, j: int) -> ModalSystem:
        p = self.params
        s, a = self._slopes[j], self._knots_v[j] - self._slopes[j] * self._knots_q[j]
        n_rc = len(p.rc)
        rates = (-self.k_sd,) + tuple(-1.0 / (r.resistance * r.capacitance) for r in p.rc)
        gains = (-1.0,) + tuple(1.0 / r.capacitance for r in p.rc)
        terminal = Output("terminal", (s,) + (-1.0,) * n_rc, -p.r0, a)
        charge = Output("charge", (1.0,) + (0.0,) * n_rc, 0.0, 0.0)
        soc = Output("soc", (1.0 / p.capacity,) + (0.0,) * n_rc, 0.0, 0.0)
        return ModalSystem(
            rates=rates,
            gains=gains,
            drifts=(0.0,) * (1 + n_rc),
            outputs=(terminal, charge, soc),
            loss_quadratic=(self.k_sd * s,) + tuple(1.0 / r.resistance for r in p.rc),
            loss_linear=(self.k_sd * a,) + (0.0,) * n_rc,
            series_resistance=p.r0,
        )

    def initial_state(self) -> list[float]:
        return [self.initial_soc * self.params.capacity] + [0.0] * len(self.params.rc)

    def stored_energy(self, z) -> float:
        q = z[0]
        chem = self._energy_from_piece(self.piece_of(q), q) - self._energy_offset
        return chem + sum(0.5 * r.capacitance * v * v for r, v in zip(self.params.rc, z[1:]))

    def breakpoints(self, z) -> list[Breakpoint]:
        j, out = self._piece, []
        if j > 0:
            out.append(Breakpoint("charge", self._knots_q[j], "falling", j - 1))
        if j < len(self._slopes) - 1:
            out.append(Breakpoint("charge", self._knots_q[j + 1], "rising", j + 1))
        return out

    def cross_breakpoint(self, z, breakpoint: Breakpoint):
        self._piece = breakpoint.tag
        return list(z)

    def state_of_charge(self, z) -> float:
        return z[0] / self.params.capacity

    def trace_columns(self) -> list[str]:
        return ["ocv_V"] + [f"rc{k}_V" for k in range(1, len(self.params.rc) + 1)]

    def trace_values(self, z) -> list[float]:
        return [self.ocv(z[0])] + list(z[1:])

    def describe(self) -> str:
        p = self.params
        return (f"battery {p.capacity / 3.6:g} mAh, R0={p.r0:g} Ω, {len(p.rc)} RC pair(s), "
                f"OCV {p.ocv[0][1]:g}–{p.ocv[-1][1]:g} V")
