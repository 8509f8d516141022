"""Contact-separation triboelectric nanogenerator through a full bridge into the storage.

Device (Niu & Wang, Nano Energy 2015; models-and-numerics.md §3.2)::

    V = -Q/C(x) + V_oc(x),   C(x) = ε0·S/(d0 + x),   V_oc(x) = σ·x/ε0,   d0 = Σ d_i/ε_ri
    Q_sc,max = σ·S·x_max/(d0 + x_max),   C_max = ε0·S/d0,   C_min = ε0·S/(d0 + x_max)

Through an ideal full bridge onto a store at voltage ``U`` (plus the two conducting diodes' drops,
``U = V_storage + 2·V_D``), once conduction has started every stroke (separation or contact) moves
one charge packet::

    ΔQ = max(0, Q_sc,max - U·(C_max + C_min))

so the store saturates at ``U_sat = Q_sc,max/(C_max + C_min) ≈ σ·d0/ε0`` and a capacitor ``C_L``
follows ``U_k = U_sat·[1 - (1 - (C_max + C_min)/C_L)^(2k)]`` after ``k`` cycles (two strokes per
cycle; the reference's per-cycle form ``(1 - 2(C_max+C_min)/C_L)^k`` agrees to O((C/C_L)²)).
This assumes ``C_L ≫ C_max``, true for any storage element. The µs–ms current pulse of a stroke is
not resolved: each packet is delivered as a rectangular pulse of ``pulse_width`` (default 1 ms),
a ``current_of_voltage`` draw ``I(V) = -ΔQ(V)/pulse_width`` that the engine solves at the
terminal (ESR included) and holds over ≤ 1 % voltage stretches.

Motion: a steady ``frequency`` (one contact at the start of each period, the separation half a
period later), or a trace of motion events (footsteps): each event is a contact at its time and
a separation ``contact_time`` later.
"""
from __future__ import annotations

from dataclasses import dataclass

from sysim.engine.component import Component
from sysim.engine.draws import Draw
from sysim.engine.schedule import PeriodicSchedule, PiecewiseSchedule, Schedule

EPSILON_0 = 8.8541878128e-12  # F/m


@dataclass(frozen=True)
class TengParameters:
    charge_density: float                     # C/m², tribo-charge σ
    area: float                               # m², electrode overlap S
    gap: float                                # m, maximum separation x_max
    dielectrics: tuple[tuple[float, float], ...]  # (thickness m, relative permittivity) per layer
    diode_drop: float = 0.0                   # V per bridge diode
    pulse_width: float = 1e-3                 # s

    @property
    def effective_thickness(self) -> float:
        """d0 = Σ d_i/ε_ri (m)."""
        return sum(d / er for d, er in self.dielectrics)

    @property
    def c_max(self) -> float:
        return EPSILON_0 * self.area / self.effective_thickness

    @property
    def c_min(self) -> float:
        return EPSILON_0 * self.area / (self.effective_thickness + self.gap)

    @property
    def q_sc_max(self) -> float:
        d0 = self.effective_thickness
        return self.charge_density * self.area * self.gap / (d0 + self.gap)

    @property
    def v_oc_max(self) -> float:
        return self.charge_density * self.gap / EPSILON_0

    @property
    def saturation_voltage(self) -> float:
        """Storage voltage at which the packets stop (V): ``U_sat - 2·V_D``."""
        return self.q_sc_max / (self.c_max + self.c_min) - 2.0 * self.diode_drop

    def packet(self, storage_voltage: float) -> float:
        """Charge (C) one stroke delivers into a store at ``storage_voltage`` (V)."""
        u = storage_voltage + 2.0 * self.diode_drop
        return max(0.0, self.q_sc_max - u * (self.c_max + self.c_min))


class TengHarvester(Component):
    kind = "source"

    def __init__(self, name: str, params: TengParameters, frequency_Hz: float | None = None,
                 events_s: list[float] | None = None, contact_time_s: float | None = None):
        if (frequency_Hz is None) == (events_s is None):
            raise ValueError("give a frequency or a list of motion events")
        self.name, self.p = name, params
        tau = params.pulse_width
        q_sc, c_sum, offset = params.q_sc_max, params.c_max + params.c_min, 2.0 * params.diode_drop

        def current(v: float) -> float:
            return -max(0.0, q_sc - (v + offset) * c_sum) / tau

        pulse = (Draw(name, current_of_voltage=current, accounts=((f"harvested/{name}", -1.0, 0.0),), label="stroke"),)
        self.strokes_per_s = None
        if frequency_Hz is not None:
            period = 1.0 / frequency_Hz
            if 2.0 * tau >= period:
                raise ValueError(f"pulse_width {tau:g} s is too long for {frequency_Hz:g} Hz")
            self._schedule: Schedule = PeriodicSchedule.from_durations(
                [(tau, pulse), (0.5 * period - tau, ()), (tau, pulse)], period, ())
            self.strokes_per_s = 2.0 * frequency_Hz
        else:
            contact = contact_time_s if contact_time_s is not None else 0.2
            if contact <= tau:
                raise ValueError("contact_time must be longer than pulse_width")
            times, draws = [], []
            for t in events_s:
                times += [t, t + tau, t + contact, t + contact + tau]
                draws += [pulse, (), pulse, ()]
            self._schedule = PiecewiseSchedule(tuple(times), tuple(draws))
            self.events = len(events_s)

    def schedule(self, sim) -> Schedule:
        return self._schedule

    def summary(self) -> dict:
        return {f"{self.name}_saturation_voltage_V": self.p.saturation_voltage,
                f"{self.name}_charge_per_stroke_C": self.p.q_sc_max}
