"""Battery / micro-battery: Thevenin model with a piecewise-linear OCV table, hysteresis, calendar
self-discharge, Arrhenius resistances and capacity fade per equivalent full cycle.

Equations (models-and-numerics.md §2.1–2.6, §5.3 item 4)::

    V     = OCV(q/Q) + h - Σ_k v_k - R0·I
    dq/dt = -I - k_sd·q                        (q: charge above empty, C; k_sd: calendar self-discharge)
    dv_k/dt = -v_k/(R_k·C_k) + I/C_k           (RC pairs: charge transfer, diffusion)
    dh/dt = -(γ/Q)·|I|·(h + sign(I)·M)         (one-state hysteresis, §2.3; optional)
    dw/dt = -κ·|I|·w,  κ = -ln(1 - f)/(2·Q0)   (capacity-fade counter; optional)

Inside one linear piece of the OCV table, ``OCV = a_j + s_j·q`` and the model is an LTI network;
the piece boundaries are breakpoints (SOC thresholds) at which the output map switches. The state
``z = (q, v_1, …, v_n[, h][, w])`` is already modal, so it carries over unchanged from piece to
piece. Self-discharge is SOC-proportional so that a stated loss per year holds at full charge:
``k_sd = -ln(1 - fraction_per_year)/year``.

The hysteresis equation is linear in h with rate ``(γ/Q)·|I|`` and forcing ``-(γ/Q)·M·I``, so it is
stepped exactly through the engine's current-dependent rates (``ModalSystem.rate_per_amp``); the
voltage h at the terminal does work ``h·I`` that is not stored, so ``-h·I`` is booked as a loss.

Capacity fade: ``w`` (the capacity fraction left) follows ``exp(-κ·∫|I|dt)``, i.e. a fraction ``f``
lost per equivalent full cycle (``2·Q0`` of charge throughput), exactly. The OCV table is applied
to the capacity ``Q = w_applied·Q0``, renewed whenever ``w`` has fallen by ``FADE_STEP`` (a threshold
event on the ``capacity_fraction`` output). At that event the state of charge is kept (no voltage
step) and the charge, and with it the stored energy, shrinks with the capacity; that energy leaves
through :meth:`take_energy_released` into the ledger account ``lost/storage_ageing``.

Temperature (§2.5): R0 and the RC resistances scale with ``activation_energy`` (the RC capacitances
stay, so the time constants follow the resistances); the self-discharge rate scales with
``leakage_activation_energy``.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace

from .base import Breakpoint, StorageModel
from .linear import ModalSystem, Output
from .temperature import T_REFERENCE_K, arrhenius_factor

YEAR_S = 365.25 * 86400.0
#: the capacity used by the OCV table lags the exact fade counter by at most this fraction of Q0
FADE_STEP = 1e-3
#: OCV piece boundaries fire this fraction of the capacity beyond their knot
KNOT_MARGIN = 1e-12


@dataclass(frozen=True)
class RCPair:
    resistance: float   # Ω
    capacitance: float  # F


@dataclass(frozen=True)
class BatteryParameters:
    capacity: float                       # C (1 mAh = 3.6 C), fresh
    ocv: tuple[tuple[float, float], ...]  # (soc 0..1, volts), soc ascending
    r0: float                             # Ω
    rc: tuple[RCPair, ...] = field(default_factory=tuple)
    self_discharge_per_year: float = 0.0  # fraction of charge lost per year at full charge
    hysteresis_voltage: float = 0.0       # V, M: half-width of the charge/discharge OCV gap
    hysteresis_rate: float = 0.0          # γ: h settles within about 1/γ of SOC travel
    fade_per_cycle: float = 0.0           # fraction of capacity lost per equivalent full cycle
    initial_cycles: float = 0.0           # equivalent full cycles already done at the start
    activation_energy: float = 0.0        # J/mol, R0 and RC resistances
    leakage_activation_energy: float = 0.0  # J/mol, self-discharge
    reference_temperature: float = T_REFERENCE_K

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
        if self.hysteresis_voltage < 0 or self.hysteresis_rate < 0:
            raise ValueError("hysteresis voltage and rate must not be negative")
        if bool(self.hysteresis_voltage) != bool(self.hysteresis_rate):
            raise ValueError("hysteresis needs both a voltage and a rate")
        if not 0.0 <= self.fade_per_cycle < 1.0:
            raise ValueError("fade_per_cycle must be between 0 and 100 %")
        if self.initial_cycles < 0:
            raise ValueError("initial_cycles must not be negative")

    def scaled(self, capacity: float = 1.0, capacitance: float = 1.0, resistance: float = 1.0,
               leakage: float = 1.0) -> "BatteryParameters":
        """Capacity × ``capacity``, RC capacitances × ``capacitance``, resistances × ``resistance``,
        self-discharge rate × ``leakage`` (area scaling and cell-to-cell spread)."""
        k_sd = -math.log1p(-self.self_discharge_per_year) * leakage
        return replace(self, capacity=self.capacity * capacity, r0=self.r0 * resistance,
                       rc=tuple(RCPair(r.resistance * resistance, r.capacitance * capacitance) for r in self.rc),
                       self_discharge_per_year=-math.expm1(-k_sd))

    @property
    def initial_capacity_fraction(self) -> float:
        return (1.0 - self.fade_per_cycle) ** self.initial_cycles


class Battery(StorageModel):
    """Thevenin battery with a piecewise-linear OCV; starts relaxed (RC voltages and h zero)."""

    def __init__(self, params: BatteryParameters, initial_soc: float):
        self.params = params
        self.initial_soc = float(initial_soc)
        self.kelvin: float | None = None
        self._has_h = params.hysteresis_voltage > 0
        self._has_w = params.fade_per_cycle > 0
        n_rc = len(params.rc)
        self._h_index = 1 + n_rc if self._has_h else None
        self._w_index = 1 + n_rc + (1 if self._has_h else 0) if self._has_w else None
        self._kappa = -math.log1p(-params.fade_per_cycle) / (2.0 * params.capacity) if self._has_w else 0.0
        self._w_applied = params.initial_capacity_fraction
        self._released = 0.0
        self._setup()
        self._piece = self.piece_of(self.initial_soc * self.capacity)

    # --- parameters at the present temperature and capacity ---------------------------------
    @property
    def capacity(self) -> float:
        """Capacity (C) the OCV table is applied to now: fresh capacity × applied fade fraction."""
        return self.params.capacity * self._w_applied

    def _setup(self) -> None:
        p = self.params
        f_r = arrhenius_factor(p.activation_energy, self.kelvin, p.reference_temperature)
        f_l = arrhenius_factor(p.leakage_activation_energy, self.kelvin, p.reference_temperature)
        self._r0 = p.r0 * f_r
        self._rc = tuple(RCPair(r.resistance * f_r, r.capacitance) for r in p.rc)
        frac = p.self_discharge_per_year
        self.k_sd = -math.log1p(-frac) / YEAR_S / f_l if frac > 0 else 0.0
        q = self.capacity
        self._knots_q = [soc * q for soc, _ in p.ocv]
        self._knots_v = [v for _, v in p.ocv]
        self._slopes = [(v1 - v0) / (q1 - q0) for q0, q1, v0, v1 in
                        zip(self._knots_q, self._knots_q[1:], self._knots_v, self._knots_v[1:])]
        # ∫OCV dq from q = 0 up to each knot, for the exact stored energy.
        self._energy_at_knot = [0.0]
        for j, s in enumerate(self._slopes):
            dq = self._knots_q[j + 1] - self._knots_q[j]
            self._energy_at_knot.append(self._energy_at_knot[-1] + self._knots_v[j] * dq + 0.5 * s * dq * dq)
        self._energy_offset = self._energy_from_piece(0, 0.0) if self._knots_q[0] > 0 else 0.0
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

    def chemical_energy(self, charge: float) -> float:
        """∫OCV dq from empty to ``charge`` (J) at the present capacity."""
        return self._energy_from_piece(self.piece_of(charge), charge) - self._energy_offset

    def soc_at_voltage(self, volts: float) -> float:
        """SOC whose OCV equals ``volts`` (inverse of the table; flat pieces give their lower edge)."""
        vs, qs = self._knots_v, self._knots_q
        if volts <= vs[0]:
            return qs[0] / self.capacity
        if volts >= vs[-1]:
            return qs[-1] / self.capacity
        j = max(bisect.bisect_left(vs, volts) - 1, 0)
        s = self._slopes[j]
        q = qs[j] if s == 0 else qs[j] + (volts - vs[j]) / s
        return q / self.capacity

    # --- StorageModel ----------------------------------------------------------------------
    def modal(self) -> ModalSystem:
        system = self._systems.get(self._piece)
        if system is None:
            system = self._systems[self._piece] = self._build(self._piece)
        return system

    def _build(self, j: int) -> ModalSystem:
        s, a = self._slopes[j], self._knots_v[j] - self._slopes[j] * self._knots_q[j]
        rc = self._rc
        n_rc = len(rc)
        rates = [-self.k_sd] + [-1.0 / (r.resistance * r.capacitance) for r in rc]
        gains = [-1.0] + [1.0 / r.capacitance for r in rc]
        c_term = [s] + [-1.0] * n_rc
        loss_q = [self.k_sd * s] + [1.0 / r.resistance for r in rc]
        loss_l = [self.k_sd * a] + [0.0] * n_rc
        per_amp, loss_per_amp = [0.0] * (1 + n_rc), [0.0] * (1 + n_rc)
        if self._has_h:
            k = self.params.hysteresis_rate / self.capacity
            rates.append(0.0)
            gains.append(-k * self.params.hysteresis_voltage)
            c_term.append(1.0)
            loss_q.append(0.0)
            loss_l.append(0.0)
            per_amp.append(-k)
            loss_per_amp.append(-1.0)
        if self._has_w:
            rates.append(0.0)
            gains.append(0.0)
            c_term.append(0.0)
            loss_q.append(0.0)
            loss_l.append(0.0)
            per_amp.append(-self._kappa)
            loss_per_amp.append(0.0)
        n = len(rates)
        unit = [0.0] * n
        charge_c = list(unit)
        charge_c[0] = 1.0
        outputs = [Output("terminal", tuple(c_term), -self._r0, a), Output("charge", tuple(charge_c)),
                   Output("soc", tuple(c / self.capacity for c in charge_c))]
        if self._has_w:
            w_c = list(unit)
            w_c[self._w_index] = 1.0
            outputs.append(Output("capacity_fraction", tuple(w_c)))
        return ModalSystem(rates=tuple(rates), gains=tuple(gains), drifts=(0.0,) * n, outputs=tuple(outputs),
                           loss_quadratic=tuple(loss_q), loss_linear=tuple(loss_l), series_resistance=self._r0,
                           rate_per_amp=tuple(per_amp), loss_linear_per_amp=tuple(loss_per_amp))

    def initial_state(self) -> list[float]:
        z = [self.initial_soc * self.capacity] + [0.0] * len(self.params.rc)
        if self._has_h:
            z.append(0.0)
        if self._has_w:
            z.append(self._w_applied)
        return z

    def stored_energy(self, z) -> float:
        chem = self._energy_from_piece(self._piece, z[0]) - self._energy_offset  # the law in force
        return chem + sum(0.5 * r.capacitance * v * v for r, v in zip(self._rc, z[1:]))

    def breakpoints(self, z) -> list[Breakpoint]:
        # Boundaries fire a hair beyond their knot (KNOT_MARGIN relative to the capacity) so that
        # rounding at a crossing cannot bounce the state between two pieces.
        j, out, m = self._piece, [], KNOT_MARGIN * self.capacity
        if j > 0:
            out.append(Breakpoint("charge", self._knots_q[j] - m, "falling", j - 1))
        if j < len(self._slopes) - 1:
            out.append(Breakpoint("charge", self._knots_q[j + 1] + m, "rising", j + 1))
        if self._has_w:
            out.append(Breakpoint("capacity_fraction", self._w_applied - FADE_STEP, "falling", "fade"))
        return out

    def cross_breakpoint(self, z, breakpoint: Breakpoint):
        z = list(z)
        if breakpoint.tag == "fade":
            before = self.stored_energy(z)
            ratio = z[self._w_index] / self._w_applied
            self._w_applied = z[self._w_index]
            z[0] *= ratio  # keep the state of charge: no voltage step
            self._setup()
            self._released += before - self.stored_energy(z)
            self._piece = self.piece_of(z[0])
            return z
        self._piece = breakpoint.tag
        return z

    def take_energy_released(self) -> float:
        released, self._released = self._released, 0.0
        return released

    def set_temperature(self, kelvin: float, z) -> list[float]:
        self.kelvin = float(kelvin)
        self._setup()
        return list(z)

    def state_of_charge(self, z) -> float:
        return z[0] / self.capacity

    def trace_columns(self) -> list[str]:
        cols = ["ocv_V"] + [f"rc{k}_V" for k in range(1, len(self.params.rc) + 1)]
        if self._has_h:
            cols.append("hysteresis_V")
        if self._has_w:
            cols.append("capacity_fraction")
        return cols

    def trace_values(self, z) -> list[float]:
        return [self.ocv(z[0])] + list(z[1:])

    def describe(self) -> str:
        p = self.params
        return (f"battery {p.capacity / 3.6:g} mAh, R0={p.r0:g} Ω, {len(p.rc)} RC pair(s), "
                f"OCV {p.ocv[0][1]:g}–{p.ocv[-1][1]:g} V")
