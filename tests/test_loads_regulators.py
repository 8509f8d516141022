"""LDO and buck regulators: exact losses against closed forms, dropout, UVLO, ledger balance."""
import math

import numpy as np
import pytest

import sysim
from conftest import balance_ok
from loads.regulators import Buck
from sysim.errors import ScenarioError


def _run(loads, regulators, duration, capacitance=1.0, v0=3.0, esr=0.0, record_every=None, harvester=None, **storage):
    data = {"simulation": {"duration": duration, "record_every": record_every or duration / 50},
            "storage": {"model": "supercap", "capacitance": capacitance, "initial_voltage": v0, "esr": esr, **storage},
            "regulator": regulators, "load": loads}
    if harvester:
        data["harvester"] = harvester
    return sysim.simulate(sysim.from_dict(data))


def test_ldo_passes_the_current_and_books_the_drop_as_loss():
    # ideal 1 F at 3 V; 1 mA through a 1.8 V LDO with 1 µA quiescent: V(t) = 3 - 1.001 mA·t / C
    i, iq, c, v0, t_end = 1e-3, 1e-6, 1.0, 3.0, 500.0
    result = _run([{"type": "constant", "name": "mcu", "current": i, "rail": "ldo"}],
                  {"ldo": {"type": "ldo", "output_voltage": "1.8 V", "quiescent_current": iq}}, t_end)
    v_end = v0 - (i + iq) * t_end / c
    assert result.summary["final_voltage_V"] == pytest.approx(v_end, rel=1e-13)
    integral_v = v0 * t_end - (i + iq) * t_end ** 2 / (2 * c)  # ∫V dt
    assert result.ledger["to_loads/mcu"] == pytest.approx(1.8 * i * t_end, rel=1e-12)
    assert result.ledger["lost/regulator/ldo"] == pytest.approx((integral_v - 1.8 * t_end) * i + iq * integral_v, rel=1e-12)
    assert result.column("mcu_A")[5] == pytest.approx(i) and result.column("ldo_A")[5] == pytest.approx(iq)
    assert np.all(result.column("ldo_mode") == 1.0)
    balance_ok(result)


def test_ldo_dropout_follows_the_storage_and_cuts_the_load_at_its_minimum():
    # 10 mF from 2.7 V at 1 mA: dropout at 2.6 V (t = 1 s), the 2.5 V rail then follows V - 0.1 V;
    # the load's v_min = 2.2 V on the rail is reached when the storage is at 2.3 V (t = 4 s)
    c, i = 0.01, 1e-3
    result = _run([{"type": "constant", "name": "radio", "current": i, "rail": "ldo", "v_min": "2.2 V"}],
                  {"ldo": {"type": "ldo", "output_voltage": "2.5 V", "dropout_voltage": "0.1 V"}}, 6.0,
                  capacitance=c, v0=2.7, record_every=0.05)
    events = {(e.source, e.message.split(":")[0]): e.t for e in result.events}
    assert events[("ldo", "dropout")] == pytest.approx(1.0, rel=1e-9)
    assert events[("radio", "rail below v_min = 2.2 V")] == pytest.approx(4.0, rel=1e-9)
    assert result.summary["final_voltage_V"] == pytest.approx(2.3, rel=1e-12)  # nothing drawn after
    t, mode, on = result.column("time_s"), result.column("ldo_mode"), result.column("radio_on")
    assert np.all(mode[t < 0.99] == 1.0) and np.all(mode[t > 1.01] == 2.0)
    assert np.all(on[t < 3.99] == 1.0) and np.all(on[t > 4.01] == 0.0) and np.all(result.column("radio_A")[t > 4.01] == 0)
    # energy to the load: 2.5 V·I for 1 s, then (V(t) - 0.1 V)·I for 3 s with V(t) = 2.6 - I·(t-1)/C
    in_dropout = i * ((2.6 - 0.1) * 3.0 - i * 3.0 ** 2 / (2 * c))
    assert result.ledger["to_loads/radio"] == pytest.approx(2.5 * i * 1.0 + in_dropout, rel=1e-12)
    assert result.ledger["lost/regulator/ldo"] == pytest.approx(i * (0.2 * 1.0 - i * 1.0 / (2 * c)) + 0.1 * i * 3.0,
                                                                rel=1e-9)
    balance_ok(result)


def test_buck_draws_constant_input_power_from_its_efficiency_table():
    # 1 mA at 1.8 V through a buck with η = 0.9 (flat table): P_in = 2 mW; on an ideal 1 F
    # capacitor V(t)² = V0² - 2·P_in·t/C  (models-and-numerics.md §5.3 item 2, R → 0)
    p_in, c, v0, t_end = 1.8e-3 / 0.9, 1.0, 3.0, 1000.0
    result = _run([{"type": "constant", "name": "mcu", "current": "1 mA", "rail": "buck"}],
                  {"buck": {"type": "buck", "output_voltage": "1.8 V", "efficiency": [["1 uA", 0.9], ["1 A", 0.9]]}},
                  t_end)
    # constant power is held over stretches of ≤ 3 % voltage change (POWER_TOLERANCE_REL) (engine accuracy ~3e-5, README)
    assert result.summary["final_voltage_V"] == pytest.approx(math.sqrt(v0 ** 2 - 2 * p_in * t_end / c), rel=3e-5)
    assert result.ledger["to_loads/mcu"] == pytest.approx(1.8e-3 * t_end, rel=1e-12)
    # the load gets exactly 1.8 mW; the converter loss takes the rest of what the storage gave
    lost = result.ledger["lost/regulator/buck"]
    assert lost == pytest.approx(0.5 * c * (v0 ** 2 - result.summary["final_voltage_V"] ** 2) - 1.8, rel=1e-12)
    assert lost == pytest.approx(0.1 / 0.9 * 1.8e-3 * t_end, abs=3e-5 * p_in * t_end)
    balance_ok(result)


def test_buck_efficiency_is_interpolated_in_log_current():
    buck = Buck("b", 1.8, [(1e-6, 0.6), (1e-3, 0.9)])
    assert buck.efficiency(1e-6) == 0.6 and buck.efficiency(1e-3) == 0.9
    assert buck.efficiency(math.sqrt(1e-9)) == pytest.approx(0.75)  # halfway in log10(I)
    assert buck.efficiency(1e-9) == 0.6 and buck.efficiency(1.0) == 0.9  # held at the ends
    draw = buck.draw("x", current_A=1e-3)
    assert draw.power_W == pytest.approx(1.8e-3 / 0.9) and draw.current_A == 0.0
    draw = buck.draw("x", power_W=1.8e-6)  # a power state: its load current sets η
    assert draw.power_W == pytest.approx(1.8e-6 / 0.6)


def test_buck_uvlo_turns_the_rail_off_and_restarts_above_the_hysteresis():
    # TPS62740: UVLO 1.925 V falling, 2.075 V rising. 100 mF from 2.0 V, 1 mA at 1.8 V (η 90 %),
    # then a 200 µA harvester brings the storage back.
    result = _run([{"type": "constant", "name": "mcu", "current": "1 mA", "rail": "buck"}],
                  {"buck": {"preset": "tps62740-1v8"}}, 2000.0, capacitance=0.1, v0=2.0,
                  harvester=[{"type": "current", "name": "pv", "current": "200 uA"}], record_every=1.0)
    off = [e.t for e in result.events if e.source == "buck" and "lockout" in e.message]
    on = [e.t for e in result.events if e.source == "buck" and "rail on" in e.message]
    assert off and on and on[0] > off[0]
    t, v, mode = result.column("time_s"), result.column("voltage_V"), result.column("buck_mode")
    after_off = (t > off[0] + 1) & (t < on[0] - 1)
    assert np.all(mode[after_off] == 0.0) and np.all(result.column("mcu_A")[after_off] == 0.0)
    # off: only 70 nA shutdown current against 200 µA of harvest; on again a start-up time (1 ms)
    # after the storage reaches 2.075 V
    rise = (2.075 - 1.925) * 0.1 / (200e-6 - 70e-9)
    assert on[0] - off[0] == pytest.approx(rise + 1e-3, rel=1e-9)
    assert v[after_off].min() >= 1.925 - 1e-9
    balance_ok(result)


def test_led_behind_a_regulated_ldo_draws_its_current_at_the_rail_voltage():
    result = _run([{"type": "led-red", "name": "led", "resistor": "100 ohm", "rail": "ldo"}],
                  {"ldo": {"type": "ldo", "output_voltage": "2.5 V", "dropout_voltage": "0.05 V"}}, 10.0, v0=3.0)
    from loads.led import led_current
    expected = led_current(2.5, 1e-18, 2.0, 105.0)
    assert result.column("led_A")[3] == pytest.approx(expected, rel=1e-12)
    assert result.ledger["to_loads/led"] == pytest.approx(2.5 * expected * 10.0, rel=1e-12)
    balance_ok(result)


def test_regulator_scenario_errors():
    def error(regulators, loads=None):
        data = {"simulation": {"duration": "1 s"}, "storage": {"model": "supercap", "capacitance": "1 F",
                                                               "initial_voltage": "3 V"},
                "regulator": regulators, "load": loads or []}
        with pytest.raises(ScenarioError) as err:
            sysim.simulate(sysim.from_dict(data))
        return str(err.value)

    assert "regulator.ldo.output_voltage: missing required key" in error({"ldo": {"type": "ldo"}})
    assert "regulator.ldo.type" in error({"ldo": {"type": "linear"}})
    assert "regulator.b.efficiency" in error({"b": {"type": "buck", "output_voltage": 1.8,
                                                    "efficiency": [["1 mA", "120 %"]]}})
    assert "regulator.storage" in error({"storage": {"type": "ldo", "output_voltage": 1.8}})
    assert "unknown preset" in error({"x": {"preset": "tps7a02-9v9"}})
    msg = error({"ldo": {"preset": "tps7a02-1v8"}}, [{"type": "constant", "name": "ldo", "current": "1 uA"}])
    assert "regulator.ldo" in msg and "also used" in msg
    msg = error({"ldo": {"preset": "tps7a02-1v8"}}, [{"type": "epaper-2in13-full-refresh", "rail": "ldo"}])
    assert "load[0].v_min" in msg and "never reaches v_min (2.3 V)" in msg
