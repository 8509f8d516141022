"""Turning power and voltage-dependent draws into terminal currents at a frozen internal voltage.

At the terminal ``V = E - R·I`` (E: the storage's open-circuit output ``c·z + f``, R: its series
resistance). Constant currents ``I_c`` and constant powers ``P`` (sum) give the quadratic

    V² - (E - R·I_c)·V + R·P = 0    →    V = ½·[(E - R·I_c) + sqrt((E - R·I_c)² - 4·R·P)]

(models-and-numerics.md §5.3 item 1, including the ESR drop exactly). When the discriminant is
negative the source cannot deliver the power (maximum power transfer): the terminal sits at the
collapse point ``V = (E - R·I_c)/2`` and the brown-out comparator takes over. Voltage-dependent
draws add ``Σ f(V)`` and the scalar equation is solved with Brent's method.

Over a stretch the engine freezes E at the midpoint of a predictor step (second-order accurate);
the stretch is limited so that E moves by at most ``POWER_TOLERANCE_REL`` of its value.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from .draws import Draw

#: largest relative change of the internal voltage over one stretch with frozen power draws: a
#: constant-power draw held at one current delivers P·h to within about (this)²/12 (7.5e-5);
#: ``simulation.power_tolerance`` sets it per run (Stepper.power_tolerance)
POWER_TOLERANCE_REL = 0.03
_V_FLOOR = 1e-6


def terminal_currents(draws: tuple[Draw, ...], e_open: float, r_series: float) -> tuple[tuple[float, ...], float]:
    """Currents (A, + = discharge) of each draw and their sum, with the terminal at the voltage
    that the draws themselves set through the series resistance."""
    if all(d.is_linear for d in draws):
        currents = tuple(d.current_A for d in draws)
        return currents, math.fsum(currents)
    i_const = math.fsum(d.current_A for d in draws)
    power = math.fsum(d.power_W for d in draws)
    functions = tuple(d.current_of_voltage for d in draws if d.current_of_voltage is not None)
    v = _terminal_voltage(e_open, r_series, i_const, power, functions)
    currents = tuple(d.current_A + (d.power_W / v if d.power_W else 0.0)
                     + (d.current_of_voltage(v) if d.current_of_voltage is not None else 0.0)
                     for d in draws)
    return currents, math.fsum(currents)


@lru_cache(maxsize=4096)  # a merged duty cycle repeats the same few draw combinations at one E
def _terminal_voltage(e_open, r, i_const, power, functions) -> float:
    e_eff = e_open - r * i_const
    if not functions:
        if r == 0.0 or power == 0.0:
            return max(e_eff, _V_FLOOR)
        disc = e_eff * e_eff - 4.0 * r * power
        if disc < 0.0:
            return max(0.5 * e_eff, _V_FLOOR)
        return max(0.5 * (e_eff + math.sqrt(disc)), _V_FLOOR)

    def residual(v):
        current = i_const + power / v + sum(f(v) for f in functions)
        return v - e_open + r * current

    # The terminal sits within the ESR drop of E: bracket it between E and twice the drop at E.
    # Below E the residual is convex when it rises again (constant power), and a bracket with its
    # right end where the residual is positive holds the upper root only.
    if e_open > _V_FLOOR and r > 0.0:
        at_e = residual(e_open)
        if at_e == 0.0:
            return e_open
        far = e_open - 2.0 * at_e
        if far > _V_FLOOR and (residual(far) > 0.0) != (at_e > 0.0):
            lo, hi = (far, e_open) if at_e > 0.0 else (e_open, far)
            return brentq(residual, lo, hi, xtol=1e-12, rtol=1e-12)
    hi = max(e_open, _V_FLOOR) * 2.0 + 1.0
    lo = _V_FLOOR
    while residual(hi) < 0.0:
        hi *= 2.0
        if hi > 1e6:
            return hi
    if residual(lo) > 0.0:
        # Loads that grow as the voltage falls (constant power, P/(V - V_do)) make the residual
        # convex with two roots: the terminal sits on the upper one, or at the collapse point
        # (the residual's minimum) when the storage cannot deliver.
        low = minimize_scalar(residual, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
        v_c = float(low.x)
        if residual(v_c) >= 0.0:
            return v_c
        lo = v_c
    return brentq(residual, lo, hi, xtol=1e-12, rtol=1e-12)


def harmonic_scale(i0, i_mid, i1):
    """Factor taking midpoint currents to the Simpson harmonic mean ``6/(1/i0 + 4/i_mid + 1/i1)``
    where the three share a sign (1 elsewhere); works on floats and arrays."""
    i0, i_mid, i1 = np.asarray(i0, float), np.asarray(i_mid, float), np.asarray(i1, float)
    same = (np.sign(i0) == np.sign(i_mid)) & (np.sign(i1) == np.sign(i_mid)) & (i_mid != 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = 6.0 / (1.0 / i0 + 4.0 / i_mid + 1.0 / i1)
        return np.where(same, harmonic / i_mid, 1.0)
