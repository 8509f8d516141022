"""Supercapacitor / micro-supercapacitor / hybrid micro-capacitor: ESR, main capacitance, leakage,
RC branches, optional voltage-dependent capacitance and Tafel leakage.

Topology (the scenario contract in DESIGN.md; Zubieta–Bonert / Faranda multi-branch model,
models-and-numerics.md §1.2–1.3)::

    terminal ──ESR── node ──┬── C(v) = C0 + k·v ──┐   (immediate branch, §1.6)
                            ├── R_leak ───────────┤   (ohmic leakage, §1.5)
                            ├── i = I0·e^((v−Vr)/b)┤   (optional Tafel leakage, §1.5)
                            ├── R_1 ── C_1 ────────┤   (delayed branch)
                            └── R_k ── C_k ────────┘   (long-term branch ...)        ground

With ``k = 0`` and no Tafel term the network is linear and stepped exactly in its modal form
(device_models.linear). Charge redistribution follows from the branches: after a charge stops the
node voltage sags towards the charge-weighted mean of the capacitor voltages; after a discharge it
rebounds.

C(v) and the Tafel current are handled by piecewise linearisation with breakpoint events
(models-and-numerics.md §5.3, preferred option 2): the node-voltage axis is cut at knots; inside a
piece the main capacitor is the chord of the charge curve ``Q(v) = C0·v + k·v²/2`` and the Tafel
current is the chord of the exponential (a conductance plus a constant current), so the network is
linear and stepped exactly, and crossing a knot is a threshold event. The model is therefore exact
for its piecewise-linear law, and the stored energy ``∫v dQ`` and the leakage dissipation ``v·i(v)``
are those of the same law, so the energy ledger closes to rounding. Its distance from the smooth
laws is bounded by the knot spacing: at most ``CV_TOLERANCE_V`` in node voltage at a given charge
(chord error ``k·Δv²/(8·C)``) and ``TAFEL_TOLERANCE_REL`` of the Tafel current
(``(Δv/b)²/8``). The knots cover 0 … 1.1·max(v_max, initial voltage); beyond, the end pieces extend.

Temperature (§2.5, Arrhenius): ESR and branch resistances scale with ``activation_energy``; the
ohmic leakage conductance and the Tafel exchange current with ``leakage_activation_energy``; the
Tafel slope is proportional to the absolute temperature (``b = 2.3·R·T/(α·F)`` per decade).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace

import numpy as np

from .base import Breakpoint, StorageModel
from .linear import ModalSystem, rc_network
from .temperature import T_REFERENCE_K, arrhenius_factor

#: largest node-voltage error of the piecewise-linear charge curve of C(v) = C0 + k·v (V)
CV_TOLERANCE_V = 1e-4
#: largest relative error of the piecewise-linear Tafel current
TAFEL_TOLERANCE_REL = 5e-3
#: the Tafel current is followed down to where it would move the main capacitor by this rate (V/s);
#: below, one linear piece runs to zero current at 0 V, so it leaks less than that (32 µV a year)
TAFEL_FLOOR_V_PER_S = 1e-12
MAX_PIECES = 4000
#: piece boundaries fire this far beyond their knot (V), so that rounding cannot bounce between pieces
KNOT_MARGIN_V = 1e-10


@dataclass(frozen=True)
class Branch:
    capacitance: float  # F
    resistance: float   # Ω


@dataclass(frozen=True)
class TafelLeak:
    """Activation-controlled leakage ``i = current·10^((v − voltage)/slope)`` at the reference
    temperature (models-and-numerics.md §1.5 row 2; slope in V per decade, typically 60–120 mV)."""

    current: float  # A at ``voltage``
    voltage: float  # V
    slope: float    # V per decade of current

    def __post_init__(self):
        if not (self.current > 0 and self.slope > 0):
            raise ValueError("tafel current and slope must be positive")


@dataclass(frozen=True)
class SupercapParameters:
    capacitance: float                    # F, main capacitance C0 (at 0 V when k ≠ 0)
    esr: float = 0.0                      # Ω, terminal series resistance
    leakage_resistance: float = math.inf  # Ω, ohmic parallel leakage; inf = none
    branches: tuple[Branch, ...] = field(default_factory=tuple)
    capacitance_per_volt: float = 0.0     # F/V, k in C(v) = C0 + k·v
    tafel: TafelLeak | None = None
    activation_energy: float = 0.0        # J/mol, ESR and branch resistances
    leakage_activation_energy: float = 0.0  # J/mol, leakage conductance and Tafel current
    reference_temperature: float = T_REFERENCE_K  # K, where the values above hold

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
        if self.activation_energy < 0 or self.leakage_activation_energy < 0:
            raise ValueError("activation energies must not be negative")

    @property
    def total_capacitance(self) -> float:
        return self.capacitance + sum(b.capacitance for b in self.branches)

    def scaled(self, capacitance: float = 1.0, resistance: float = 1.0, leakage: float = 1.0) -> "SupercapParameters":
        """Capacitances × ``capacitance``, resistances × ``resistance``, leakage currents ×
        ``leakage``: area scaling (a, 1/a, a) and cell-to-cell spread use this."""
        tafel = self.tafel and replace(self.tafel, current=self.tafel.current * leakage)
        return replace(self, capacitance=self.capacitance * capacitance, esr=self.esr * resistance,
                       leakage_resistance=self.leakage_resistance / leakage,
                       capacitance_per_volt=self.capacitance_per_volt * capacitance, tafel=tafel,
                       branches=tuple(Branch(b.capacitance * capacitance, b.resistance * resistance)
                                      for b in self.branches))


@dataclass(frozen=True)
class _Piece:
    """Main-node law between two knots: ``dQ = C·dv``, Tafel ``i = alpha + g·v``."""

    capacitance: float
    conductance: float
    offset_current: float


class Supercap(StorageModel):
    """Multi-branch supercapacitor; all capacitors start at ``initial_voltage``."""

    def __init__(self, params: SupercapParameters, initial_voltage: float, v_max: float | None = None):
        self.params = params
        self.initial_voltage = float(initial_voltage)
        self.v_max = v_max
        self.kelvin: float | None = None
        self._v_top = 1.1 * max(v_max or 0.0, abs(self.initial_voltage), 1e-3)
        self._setup()
        self._piece = self.piece_of(self.initial_voltage)
        self._anchor = 0.0  # J, see _switch

    # --- the piecewise law at the present temperature -----------------------------------------
    def _setup(self) -> None:
        p = self.params
        f_r = arrhenius_factor(p.activation_energy, self.kelvin, p.reference_temperature)
        f_l = arrhenius_factor(p.leakage_activation_energy, self.kelvin, p.reference_temperature)
        self._esr = p.esr * f_r
        self._branches = tuple(Branch(b.capacitance, b.resistance * f_r) for b in p.branches)
        self._g_leak = 0.0 if math.isinf(p.leakage_resistance) else 1.0 / (p.leakage_resistance * f_l)
        self._tafel = None
        if p.tafel is not None:
            t_ratio = 1.0 if self.kelvin is None else self.kelvin / p.reference_temperature
            b_e = p.tafel.slope * t_ratio / math.log(10.0)  # V per e-fold
            self._tafel = (p.tafel.current / f_l, p.tafel.voltage, b_e)
        self._knots = self._make_knots()
        self._pieces = [self._make_piece(j) for j in range(max(len(self._knots) - 1, 1))]
        self._energy_at_knot = [0.0]
        for j, piece in enumerate(self._pieces[:-1] if len(self._knots) > 1 else []):
            v0, v1 = self._knots[j], self._knots[j + 1]
            self._energy_at_knot.append(self._energy_at_knot[-1] + 0.5 * piece.capacitance * (v1 * v1 - v0 * v0))
        self._systems: dict[int, tuple] = {}

    def _make_knots(self) -> list[float]:
        p, top = self.params, self._v_top
        knots: set[float] = set()
        k = p.capacitance_per_volt
        if k != 0.0:
            if not min(p.capacitance, p.capacitance + k * top) > 0:
                raise ValueError(f"C(v) = C0 + k·v is not positive up to {top:g} V")
            # chord error of Q(v) over Δv is k·Δv²/8 in charge, i.e. k·Δv²/(8·C) in volts: the
            # spacing grows where C(v) is large (C taken at the smaller end of each piece)
            v, knots_cv = 0.0, [0.0]
            while v < top:
                c_low = p.capacitance + k * v if k > 0 else p.capacitance + k * min(top, v + 0.1 * top)
                v = min(top, v + math.sqrt(8.0 * c_low * CV_TOLERANCE_V / abs(k)))
                knots_cv.append(v)
            knots.update(knots_cv)
        if self._tafel is not None:
            b_e = self._tafel[2]
            dv = b_e * math.sqrt(8.0 * TAFEL_TOLERANCE_REL)
            i0, vr, _ = self._tafel
            bottom = min(max(vr + b_e * math.log(p.capacitance * TAFEL_FLOOR_V_PER_S / i0), 0.0), top)
            n = math.ceil((top - bottom) / dv)
            knots.update(bottom + (top - bottom) * i / n for i in range(n + 1))
            knots.add(0.0)
        ordered: list[float] = []
        for v in sorted(knots):
            if not ordered or v - ordered[-1] > 1e-9:
                ordered.append(v)
        if len(ordered) > MAX_PIECES:
            raise ValueError(f"C(v)/Tafel law needs {len(ordered)} pieces (limit {MAX_PIECES}); "
                             "check capacitance_per_volt and the tafel slope")
        return ordered

    def charge_of(self, v: float) -> float:
        """Charge (C) on the main capacitor at node voltage ``v`` for the smooth law C0·v + k·v²/2."""
        return self.params.capacitance * v + 0.5 * self.params.capacitance_per_volt * v * v

    def tafel_current(self, v: float) -> float:
        """Smooth Tafel leakage current (A) at node voltage ``v`` (0 without a Tafel term)."""
        if self._tafel is None:
            return 0.0
        i0, vr, b_e = self._tafel
        return i0 * math.exp((v - vr) / b_e)

    def _make_piece(self, j: int) -> _Piece:
        if len(self._knots) < 2:
            return _Piece(self.params.capacitance, 0.0, 0.0)
        v0, v1 = self._knots[j], self._knots[j + 1]
        cap = (self.charge_of(v1) - self.charge_of(v0)) / (v1 - v0)
        if self._tafel is None:
            return _Piece(cap, 0.0, 0.0)
        i0 = 0.0 if v0 == 0.0 else self.tafel_current(v0)
        i1 = self.tafel_current(v1)
        g = (i1 - i0) / (v1 - v0)
        return _Piece(cap, g, i0 - g * v0)

    def piece_of(self, v: float) -> int:
        """Index of the piece holding node voltage ``v`` (end pieces extend beyond the knots)."""
        if len(self._knots) < 2:
            return 0
        j = bisect.bisect_right(self._knots, v) - 1
        return min(max(j, 0), len(self._pieces) - 1)

    def _network(self, j: int):
        cached = self._systems.get(j)
        if cached is not None:
            return cached
        piece = self._pieces[j]
        n = 1 + len(self._branches)
        caps = np.diag([piece.capacitance] + [b.capacitance for b in self._branches])
        cond = np.zeros((n, n))
        cond[0, 0] = self._g_leak + piece.conductance
        for k, b in enumerate(self._branches, start=1):
            g = 1.0 / b.resistance
            cond[0, 0] += g
            cond[k, k] += g
            cond[0, k] -= g
            cond[k, 0] -= g
        injection = np.zeros(n)
        injection[0] = -1.0
        sources = np.zeros(n)
        sources[0] = -piece.offset_current
        node = np.zeros(n)
        node[0] = 1.0
        system, vecs = rc_network(caps, cond, injection,
                                  {"terminal": (node, -self._esr, 0.0), "node": (node, 0.0, 0.0)},
                                  sources=sources, series_resistance=self._esr)
        cached = self._systems[j] = (system, vecs, vecs.T @ caps)
        return cached

    # --- StorageModel --------------------------------------------------------------------------
    def modal(self) -> ModalSystem:
        return self._network(self._piece)[0]

    def initial_state(self) -> list[float]:
        return self.state_from_voltages(np.full(1 + len(self.params.branches), self.initial_voltage))

    def state_from_voltages(self, x) -> list[float]:
        """Modal state of the present piece for capacitor voltages ``x`` (node first)."""
        return [float(v) for v in self._network(self._piece)[2] @ np.asarray(x, dtype=float)]

    def node_voltages(self, z) -> np.ndarray:
        """Capacitor voltages (V): main node first, then each branch."""
        return self._network(self._piece)[1] @ np.asarray(z, dtype=float)

    def main_energy(self, v: float, piece: int | None = None) -> float:
        """Energy (J) on the main capacitor at node voltage ``v``: ∫v dQ of the piecewise law,
        evaluated with ``piece``'s formula (default: the piece holding ``v``)."""
        j = self.piece_of(v) if piece is None else piece
        v0 = self._knots[j] if len(self._knots) > 1 else 0.0
        return self._energy_at_knot[j] + 0.5 * self._pieces[j].capacitance * (v * v - v0 * v0)

    def stored_energy(self, z) -> float:
        return self._stored_at(self.node_voltages(z))

    def _stored_at(self, x) -> float:
        """Stored energy (J) at capacitor voltages ``x`` (node first)."""
        return self.main_energy(float(x[0]), self._piece) + self._anchor + 0.5 * sum(b.capacitance * v * v for b, v in zip(self._branches, x[1:]))

    def breakpoints(self, z) -> list[Breakpoint]:
        j, out = self._piece, []
        if len(self._knots) < 2:
            return out
        # Each boundary is armed a hair outside its knot (KNOT_MARGIN_V): a state converted into a
        # new piece may land one rounding step back across the knot it just crossed, which must
        # not send it straight back. Near the knot both pieces' laws agree to second order.
        if j > 0:
            out.append(Breakpoint("node", self._knots[j] - KNOT_MARGIN_V, "falling", j - 1))
        if j < len(self._pieces) - 1:
            out.append(Breakpoint("node", self._knots[j + 1] + KNOT_MARGIN_V, "rising", j + 1))
        return out

    def _switch(self, x, change) -> list[float]:
        """Apply ``change`` (new piece or temperature) at capacitor voltages ``x``, keeping the
        stored energy continuous: the dynamics follow the old piece's law up to the switch, which
        happens a margin past the knot where dE/dv jumps, so the formulas differ there by
        ΔC·v·margin; ``_anchor`` absorbs that so the energy is the integral of the law followed."""
        before = self.main_energy(float(x[0]), self._piece)
        change()
        self._anchor += before - self.main_energy(float(x[0]), self._piece)
        return self.state_from_voltages(x)

    def cross_breakpoint(self, z, breakpoint: Breakpoint):
        return self._switch(self.node_voltages(z), lambda: setattr(self, "_piece", breakpoint.tag))

    def set_temperature(self, kelvin: float, z) -> list[float]:
        x = self.node_voltages(z)

        def change():
            self.kelvin = float(kelvin)
            self._setup()
            self._piece = self.piece_of(float(x[0]))
        return self._switch(x, change)

    def state_of_charge(self, z) -> float:
        return self._soc_of(self.stored_energy(z))

    def _soc_of(self, stored_J: float) -> float:
        if not self.v_max:
            return float("nan")
        full = self.main_energy(self.v_max) + 0.5 * sum(b.capacitance for b in self._branches) * self.v_max ** 2
        return stored_J / full

    def row_values(self, z) -> tuple[float, float, list[float]]:
        x = self.node_voltages(z)
        stored = self._stored_at(x)
        return self._soc_of(stored), stored, [float(v) for v in x[1:]]

    def trace_columns(self) -> list[str]:
        return [f"branch{k}_V" for k in range(1, len(self.params.branches) + 1)]

    def trace_values(self, z) -> list[float]:
        return [float(v) for v in self.node_voltages(z)[1:]]

    def describe(self) -> str:
        p = self.params
        extra = f", C(v) slope {p.capacitance_per_volt:g} F/V" if p.capacitance_per_volt else ""
        extra += ", Tafel leakage" if p.tafel else ""
        return (f"supercap C={p.capacitance:g} F, ESR={p.esr:g} Ω, R_leak={p.leakage_resistance:g} Ω, "
                f"{len(p.branches)} branch(es){extra}")
