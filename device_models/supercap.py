"""Supercapacitor / micro-supercapacitor: series resistance, main capacitance, leakage, RC branches.

Topology (the scenario contract in DESIGN.md; Zubieta–Bonert / Faranda multi-branch model,
models-and-numerics.md §1.2–1.3)::

    terminal ──ESR── node ──┬── C ───────────┐
                            ├── R_leak ───────┤   (parallel leakage, §1.1 / §1.5 ohmic row)
                            ├── R_1 ── C_1 ───┤   (delayed branch)
                            └── R_k ── C_k ───┘   (long-term branch ...)        ground

The network is linear, so the engine steps it exactly in its modal form (device_models.linear).
Charge redistribution follows from the branches: after a charge stops, the node voltage sags
towards the charge-weighted mean of the capacitor voltages; after a discharge it rebounds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .base import StorageModel
from .linear import ModalSystem, rc_network


@dataclass(frozen=True)
class Branch:
    capacitance: float  # F
    resistance: float   # Ω


@dataclass
class SupercapParameters:
    capacitance: float                  # F, main (immediate) capacitance at the node
    esr: float                          # Ω, terminal series resistance
    leakage_resistance: float = math.inf  # Ω, parallel leakage; inf = none
    branches: tuple[Branch, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if not self.capacitance > 0:
            raise ValueError("capacitance must be positive")
        if not self.esr >= 0:
            raise ValueError("esr must be zero or positive")
        if not self.leakage_resistance > 0:
            raise ValueError("leakage_resistance must be positive")
        for b in self.branches:
            if not (b.capacitance > 0 and b.resistance > 0):
                raise ValueError("branch capacitance and resistance must be positive")

    @property
    def total_capacitance(self) -> float:
        return self.capacitance + sum(b.capacitance for b in self.branches)


class Supercap(StorageModel):
    """Linear multi-branch supercapacitor; all capacitors start at ``initial_voltage``."""

    def __init__(self, params: SupercapParameters, initial_voltage: float, v_max: float | None = None):
        self.params = params
        self.initial_voltage = float(initial_voltage)
        self.v_max = v_max
        n = 1 + len(params.branches)
        caps = np.diag([params.capacitance] + [b.capacitance for b in params.branches])
        cond = np.zeros((n, n))
        cond[0, 0] = 0.0 if math.isinf(params.leakage_resistance) else 1.0 / params.leakage_resistance
        for k, b in enumerate(params.branches, start=1):
            g = 1.0 / b.resistance
            cond[0, 0] += g
            cond[k, k] += g
            cond[0, k] -= g
            cond[k, 0] -= g
        injection = np.zeros(n)
        injection[0] = -1.0
        node = np.zeros(n)
        node[0] = 1.0
        self._caps = caps
        self._system, self._vecs = rc_network(
            caps, cond, injection,
            {"terminal": (node, -params.esr, 0.0), "node": (node, 0.0, 0.0)},
            series_resistance=params.esr,
        )
        self._to_modal = self._vecs.T @ caps  # z = Vᵀ·C·x

    def modal(self) -> ModalSystem:
        return self._system

    def initial_state(self) -> list[float]:
        x0 = np.full(self._caps.shape[0], self.initial_voltage)
        return [float(v) for v in self._to_modal @ x0]

    def node_voltages(self, z) -> np.ndarray:
        """Capacitor voltages (V): main node first, then each branch."""
        return self._vecs @ np.asarray(z, dtype=float)

    def stored_energy(self, z) -> float:
        v = self.node_voltages(z)
        return float(0.5 * np.sum(np.diag(self._caps) * v * v))

    def state_of_charge(self, z) -> float:
        if not self.v_max:
            return float("nan")
        return self.stored_energy(z) / (0.5 * self.params.total_capacitance * self.v_max ** 2)

    def trace_columns(self) -> list[str]:
        return [f"branch{k}_V" for k in range(1, len(self.params.branches) + 1)]

    def trace_values(self, z) -> list[float]:
        return [float(v) for v in self.node_voltages(z)[1:]]

    def describe(self) -> str:
        p = self.params
        return (f"supercap C={p.capacitance:g} F, ESR={p.esr:g} Ω, R_leak={p.leakage_resistance:g} Ω, "
                f"{len(p.branches)} branch(es)")
