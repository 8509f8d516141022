"""An LED straight across a discharging capacitor follows its I–V curve."""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import sysim
from conftest import balance_ok
from loads.led import thermal_voltage

I_S, N, R_TOTAL = 1e-18, 2.0, 5.0 + 100.0  # led-red (R_s = 5 Ω) with a 100 Ω resistor
NVT = N * thermal_voltage(298.15)


def shockley_current(v):
    """I from the implicit I = I_s·(exp((V - I·R)/(n·V_t)) - 1), by root finding (no Lambert W)."""
    if v <= 0:
        return 0.0
    return brentq(lambda i: i * R_TOTAL + NVT * math.log1p(i / I_S) - v, 0.0, v / R_TOTAL, xtol=1e-24, rtol=1e-14)


@pytest.mark.parametrize("esr", [0.0, 2.0])
def test_led_across_a_discharging_capacitor_follows_its_iv_curve(esr):
    c, v0, t_end = 1e-3, 3.0, 2.0
    data = {"simulation": {"duration": t_end, "record_every": "5 ms"},
            "storage": {"model": "supercap", "capacitance": c, "initial_voltage": v0, "esr": esr},
            "load": [{"type": "led-red", "name": "led", "resistor": "100 ohm"}]}
    result = sysim.simulate(sysim.from_dict(data))
    t, v, i = result.column("time_s"), result.column("voltage_V"), result.column("led_A")
    expected = np.array([shockley_current(x) for x in v])  # at the recorded terminal voltage
    assert expected[0] > 10e-3 and expected[-1] < 0.1e-3    # 11 mA at 3 V down to the tail
    lit = expected > 1e-6
    assert np.max(np.abs(i[lit] - expected[lit]) / expected[lit]) < 0.01
    # the trajectory: C·dE/dt = -I(E - I·ESR), E the capacitor voltage
    def rhs(_, y):
        e = y[0]
        i_led = brentq(lambda x: x - shockley_current(e - x * esr), 0.0, e / R_TOTAL + 1e-30, xtol=1e-22) if esr \
            else shockley_current(e)
        return [-i_led / c]
    sol = solve_ivp(rhs, (0.0, t_end), [v0], method="LSODA", rtol=1e-10, atol=1e-12, dense_output=True)
    e_ref = sol.sol(t)[0]
    e_sim = v + esr * i  # the capacitor voltage behind the ESR
    assert np.max(np.abs(e_sim - e_ref)) < 3e-5
    balance_ok(result)


def test_a_blinking_led_dims_as_the_storage_discharges():
    data = {"simulation": {"duration": "100 s", "record_every": "10 ms"},
            "storage": {"model": "supercap", "capacitance": "20 mF", "initial_voltage": "2.6 V"},
            "load": [{"type": "led-red", "name": "led", "resistor": "220 ohm", "period": "1 s", "on_time": "200 ms"}]}
    result = sysim.simulate(sysim.from_dict(data))
    t, v, i = result.column("time_s"), result.column("voltage_V"), result.column("led_A")
    on = (t % 1.0) < 0.2
    assert np.all(i[~on & ((t % 1.0) > 0.201)] == 0.0)
    first, last = i[on][:5].mean(), i[on][-5:].mean()
    assert last < 0.6 * first
    r = 225.0
    for k in np.nonzero(on)[0][::50]:
        ref = brentq(lambda x: x * r + NVT * math.log1p(x / I_S) - v[k], 0.0, v[k] / r, xtol=1e-24)
        assert i[k] == pytest.approx(ref, rel=0.01)
    balance_ok(result)


def test_led_next_to_a_constant_power_load_sits_on_the_upper_operating_point():
    # 3 V behind 1 Ω: an LED (105 Ω total) and a 10 mW constant-power load share the terminal.
    # V = E - R·(I_led(V) + P/V) has two roots; the physical one is the upper (≈ 2.98 V), not
    # the collapse branch near 0 V.
    from sysim.engine.draws import Draw, load_draw
    from sysim.engine.freeze import terminal_currents
    from loads.led import LedModel
    led = Draw("led", current_of_voltage=LedModel(I_S, N, R_TOTAL), accounts=(("to_loads/led", 1.0, 0.0),))
    currents, total = terminal_currents((led, load_draw("p", power_W=10e-3)), 3.0, 1.0)
    v = 3.0 - 1.0 * total
    assert v == pytest.approx(3.0 - shockley_current(v) - 10e-3 / v, abs=1e-12)
    assert 2.9 < v < 3.0 and currents[0] == pytest.approx(shockley_current(v), rel=1e-9)
    # a source that cannot deliver collapses to the maximum-power point instead of 0 V
    _, total = terminal_currents((led, load_draw("p", power_W=5.0)), 3.0, 1.0)
    assert 0.5 < 3.0 - total < 2.0


@pytest.mark.parametrize("e_open, r, power_W, source_A", [
    (3.0, 1.0, 10e-3, 0.0),      # discharging: the terminal sits below E
    (2.2, 0.2, 0.0, -40e-3),     # a source stronger than the LED: the terminal sits above E
    (3.3, 0.5, 6e-3, -2e-3),     # both, net discharge
])
def test_terminal_voltage_bracketed_at_the_esr_drop_is_the_upper_root(e_open, r, power_W, source_A):
    # The solver brackets the terminal between E and twice the ESR drop at E; the root must be the
    # same upper root a search over the whole positive axis finds (to Brent's 1e-12 tolerance).
    from sysim.engine.freeze import _terminal_voltage
    from loads.led import LedModel
    led = LedModel(I_S, N, R_TOTAL)
    v = _terminal_voltage(e_open, r, source_A, power_W, (led,))

    def residual(x):
        return x - e_open + r * (source_A + power_W / x + led(x))
    assert abs(residual(v)) <= 1e-11
    grid = np.linspace(v + 1e-9, 2.0 * e_open + 1.0, 2000)
    assert all(residual(x) > 0.0 for x in grid)  # no root above: v is the upper one
    assert (v < e_open) == (source_A + power_W / v + led(v) > 0.0)
