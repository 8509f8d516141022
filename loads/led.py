"""LED I–V: a Shockley diode in series with a resistance, solved in closed form (Lambert W).

``I = I_s·(exp((V - I·R)/(n·V_t)) - 1)`` with ``R`` the LED's own series resistance plus any
external resistor and ``V_t = k·T/q``. Its explicit solution (models-and-numerics.md §5.3 item 5,
the single-diode form used by pvlib)::

    I(V) = (n·V_t/R)·W((I_s·R/(n·V_t))·exp((V + I_s·R)/(n·V_t))) - I_s

W is evaluated in log space (``w + ln w = a``) so that large arguments never overflow. An LED
wired to a decaying storage capacitor is thus a voltage-dependent draw: the current falls as the
storage voltage falls. Parameters (reference §4.5, [B]): red AlGaInP n ≈ 2, I_s ≈ 1e-18 A
(V_f ≈ 1.9 V at 10 mA); white/blue InGaN n ≈ 3, I_s ≈ 5e-19 A (V_f ≈ 2.9 V at 10 mA); R_s 5–10 Ω.
"""
from __future__ import annotations

import math

from scipy.special import lambertw

BOLTZMANN_J_PER_K = 1.380649e-23
ELEMENTARY_CHARGE_C = 1.602176634e-19


def thermal_voltage(temperature_K: float) -> float:
    """``V_t = k·T/q`` (V)."""
    return BOLTZMANN_J_PER_K * temperature_K / ELEMENTARY_CHARGE_C


def lambertw_of_exp(a: float) -> float:
    """``W(e^a)`` for real ``a`` (principal branch), without forming ``e^a``."""
    if a < 500.0:
        return float(lambertw(math.exp(a)).real)
    w = a - math.log(a)  # asymptotic start, then Newton on f(w) = w + ln(w) - a
    for _ in range(50):
        step = (w + math.log(w) - a) / (1.0 + 1.0 / w)
        w -= step
        if abs(step) <= 1e-15 * w:
            break
    return w


def led_current(voltage_V: float, saturation_current_A: float, ideality: float, series_resistance_ohm: float,
                temperature_K: float = 298.15) -> float:
    """LED current (A) at terminal voltage ``voltage_V`` (V) across LED + series resistance."""
    if voltage_V <= 0.0:
        return 0.0
    nvt = ideality * thermal_voltage(temperature_K)
    i_s, r = saturation_current_A, series_resistance_ohm
    if r == 0.0:
        return i_s * math.expm1(voltage_V / nvt)
    a = math.log(i_s * r / nvt) + (voltage_V + i_s * r) / nvt
    return nvt / r * lambertw_of_exp(a) - i_s


def led_voltage(current_A: float, saturation_current_A: float, ideality: float, series_resistance_ohm: float,
                temperature_K: float = 298.15) -> float:
    """Voltage (V) across LED + series resistance at ``current_A`` (the inverse of :func:`led_current`)."""
    nvt = ideality * thermal_voltage(temperature_K)
    return nvt * math.log1p(current_A / saturation_current_A) + current_A * series_resistance_ohm


class LedModel:
    """A callable ``V_rail -> I`` for one LED with its resistances, for voltage-dependent draws."""

    def __init__(self, saturation_current_A: float, ideality: float, series_resistance_ohm: float,
                 temperature_K: float = 298.15):
        if not saturation_current_A > 0 or not ideality > 0 or series_resistance_ohm < 0 or not temperature_K > 0:
            raise ValueError("LED parameters must be positive (series resistance non-negative)")
        self.i_s, self.n, self.r, self.t = saturation_current_A, ideality, series_resistance_ohm, temperature_K

    def __call__(self, voltage_V: float) -> float:
        return led_current(voltage_V, self.i_s, self.n, self.r, self.t)

    def voltage(self, current_A: float) -> float:
        return led_voltage(current_A, self.i_s, self.n, self.r, self.t)
