"""Load profiles in the engine: average current = charge per event × rate, composite duty cycles,
minimum rail voltage, preset names as types."""
import numpy as np
import pytest

import sysim
from conftest import balance_ok
from loads.dutycycle import task_charge_above_floor
from sysim.errors import ScenarioError

C = 1.0      # F, ideal: the charge drawn is exactly C·ΔV
V0 = 3.3     # V


def _scenario(loads, duration, storage=None, capacitance=C, **extra):
    data = {"simulation": {"duration": duration, "record_every": duration / 20},
            "storage": {"model": "supercap", "capacitance": capacitance, "initial_voltage": V0, **(storage or {})},
            "load": loads}
    data.update(extra)
    return data


def _drawn_charge(result, capacitance=C) -> float:
    return capacitance * (V0 - result.summary["final_voltage_V"])


PERIODIC = [
    ({"type": "nrf52832-ble-adv"}, 1.0),
    ({"type": "ble", "interval": "100 ms", "payload": 10, "tx_power": 4, "connectable": True}, 0.1),
    ({"type": "ble", "interval": "200 ms", "adv_delay": "5 ms"}, 0.205),
    ({"type": "nrf52832-ble-conn", "interval": "50 ms"}, 0.05),
    ({"type": "sx1276-lora-uplink", "interval": "5 min"}, 300.0),
    ({"type": "lora", "spreading_factor": 12, "bandwidth": "125 kHz", "payload": 51, "coding_rate": "4/8",
      "interval": "1 min", "tx_power": 20}, 60.0),
    ({"type": "lora", "spreading_factor": 10, "bandwidth": "250 kHz", "rx_windows": 1, "interval": "30 s"}, 30.0),
    ({"type": "bme280-forced-1hz"}, 1.0),
    ({"type": "bme280", "osrs_t": 2, "osrs_p": 16, "osrs_h": 0, "interval": "10 s"}, 10.0),
    ({"type": "bmp280-module-measured"}, 1.0),
    ({"type": "sharp-memory-lcd-1in35"}, 1.0),
    ({"type": "stm32l0-mcu", "period": "1 s", "active_time": "3 ms"}, 1.0),
    ({"type": "periodic", "period": "2 s", "base_current": "1 uA",
      "phases": [{"current": "3 mA", "duration": "1 ms"}, {"current": "7 mA", "duration": "2.5 ms"}]}, 2.0),
]


@pytest.mark.parametrize("load,period", PERIODIC, ids=[f"{d['type']}-{p:g}s" for d, p in PERIODIC])
def test_average_current_is_charge_per_event_times_rate(load, period):
    cycles = 50 if period < 10 else 6
    duration = cycles * period
    table = sysim.from_dict(_scenario([{**load, "name": "dut"}], duration)).loads[0][1]
    event = table.event(None)
    expected = (event.charge_C() * (1.0 / period) + event.floor.current_A * (1.0 - event.duration_s / period))
    capacitance = expected * duration / 0.3  # the storage falls by 0.3 V: stays above every v_min
    result = sysim.simulate(sysim.from_dict(_scenario([{**load, "name": "dut"}], duration, capacitance=capacitance)))
    assert _drawn_charge(result, capacitance) / duration == pytest.approx(expected, rel=1e-9)
    balance_ok(result)


def test_epaper_refresh_energy_is_power_times_time():
    # 26.4 mW for 2 s every 10 min: 52.8 mJ per refresh (a constant-power state on the storage)
    result = sysim.simulate(sysim.from_dict(_scenario([{"type": "epaper-2in13-full-refresh", "name": "epd",
                                                         "base_current": "0 A"}], 1800.0)))
    # straight from the storage the load gets what the terminal delivers: P·t to second order in
    # the frozen-power stretches (models-and-numerics.md §5.3)
    assert result.ledger["to_loads/epd"] == pytest.approx(3 * 52.8e-3, rel=1e-4)
    stored = 0.5 * C * (V0 ** 2 - result.summary["final_voltage_V"] ** 2)
    assert stored == pytest.approx(result.ledger["to_loads/epd"], rel=1e-12)
    balance_ok(result)


def test_composite_duty_cycle_average_matches_its_tasks():
    period, n = 60.0, 15
    load = {"type": "duty-cycle", "name": "node", "period": f"{period} s", "mcu": "stm32l0-mcu",
            "sleep_current": "0.2 uA",
            "tasks": [{"name": "wake", "duration": "2 ms"},
                      {"name": "sample", "device": "bme280-forced-1hz"},
                      {"name": "uplink", "device": {"type": "lora", "spreading_factor": 9, "payload": 20},
                       "every": n, "awake": False}]}
    duration = 2 * n * period
    scenario = sysim.from_dict(_scenario([load], duration))
    table = scenario.loads[0][1]
    tasks = table.task_list()
    awake = table.awake_state()
    floor = 0.2e-6 + 0.8e-6 + 0.1e-6 + 0.2e-6  # board + MCU Stop/RTC + BME280 sleep + SX1276 sleep
    assert sum(s.current_A for s in table.sleep_states()) + sum(
        t.event.floor.current_A for t in tasks if t.device is not None) == pytest.approx(floor)
    expected = floor + sum(task_charge_above_floor(t, awake) / (t.every * period) for t in tasks)
    # the same from first principles: MCU active 32 MHz × 85 µA/MHz while wake + sample run
    bme = tasks[1].event
    lora_event = tasks[2].event
    by_hand = floor + (2e-3 * (2.72e-3 - 0.8e-6)
                       + bme.charge_C() - 0.1e-6 * bme.duration_s + bme.duration_s * (2.72e-3 - 0.8e-6)) / period \
        + (lora_event.charge_C() - 0.2e-6 * lora_event.duration_s) / (n * period)
    assert expected == pytest.approx(by_hand, rel=1e-12)
    result = sysim.simulate(scenario)
    assert _drawn_charge(result) / duration == pytest.approx(expected, rel=1e-9)
    assert result.summary["events"] > 2 * n * 5
    balance_ok(result)


def test_duty_cycle_tasks_run_only_in_their_cycles():
    load = {"type": "duty-cycle", "name": "node", "period": "10 s",
            "tasks": [{"name": "a", "current": "1 mA", "duration": "1 s"},
                      {"name": "b", "current": "2 mA", "duration": "1 s", "every": 3, "phase": 1}]}
    result = sysim.simulate(sysim.from_dict({**_scenario([load], 60.0), "simulation": {"duration": "60 s",
                                                                                       "record_every": "0.5 s"}}))
    t, i = result.column("time_s"), result.column("node_A")
    # cycle 0 (0-10 s): only a at 0-1 s; cycle 1 (10-20 s): a at 10-11 s then b at 11-12 s
    assert i[np.isclose(t, 0.5)][0] == pytest.approx(1e-3) and i[np.isclose(t, 1.5)][0] == 0.0
    assert i[np.isclose(t, 10.5)][0] == pytest.approx(1e-3) and i[np.isclose(t, 11.5)][0] == pytest.approx(2e-3)
    assert i[np.isclose(t, 21.5)][0] == 0.0 and i[np.isclose(t, 41.5)][0] == pytest.approx(2e-3)
    assert _drawn_charge(result) == pytest.approx(6 * 1e-3 + 2 * 2e-3, rel=1e-12)


def test_duty_cycle_errors_name_the_key():
    def error(load):
        with pytest.raises(ScenarioError) as err:
            sysim.from_dict(_scenario([load], 10.0))
        return str(err.value)

    base = {"type": "duty-cycle", "period": "1 s"}
    msg = error({**base, "tasks": [{"name": "x", "current": "1 mA", "duration": "2 s"}]})
    assert "load[0]" in msg and "longer than the period" in msg
    msg = error({**base, "tasks": [{"device": {"type": "lora", "spreading_factor": 13}}]})
    assert "load[0].tasks[0].device" in msg and "spreading_factor" in msg
    msg = error({**base, "tasks": [{"device": "no-such-thing"}]})
    assert "load[0].tasks[0].device" in msg and "unknown type 'no-such-thing'" in msg
    msg = error({**base, "tasks": [{"device": "bme280", "duration": "1 ms"}]})
    assert "exactly one of device, states or duration" in msg
    msg = error({**base, "tasks": [{"device": {"type": "bme280", "rail": "storage"}}]})
    assert "belongs to the duty-cycle load" in msg
    msg = error({**base, "mcu": "bme280", "tasks": [{"duration": "1 ms"}]})
    assert "load[0].mcu" in msg and "expected an MCU" in msg
    msg = error({**base, "tasks": [{"duration": "1 ms", "every": 7, "phase": 7}]})
    assert "phase must be 0..every-1" in msg


def test_a_load_below_its_minimum_rail_voltage_draws_nothing_and_is_marked_off():
    # 10 mF at 2.0 V; a 100 µA load with v_min = 1.9 V: off at t = C·ΔV/I = 10 s exactly.
    # A 20 µA harvester then lifts the storage to 1.95 V (v_min + hysteresis) in 25 s more.
    data = _scenario([{"type": "constant", "name": "dut", "current": "100 uA", "v_min": "1.9 V"}], 60.0,
                     storage={"capacitance": "10 mF", "initial_voltage": "2.0 V"},
                     harvester=[{"type": "current", "name": "h", "current": "20 uA"}])
    data["simulation"] = {"duration": "60 s", "record_every": "0.5 s"}
    result = sysim.simulate(sysim.from_dict(data))
    t, on, i, v = (result.column(k) for k in ("time_s", "dut_on", "dut_A", "voltage_V"))
    t_off = 0.01 * 0.1 / 80e-6            # 12.5 s at net 80 µA
    t_on = t_off + 0.01 * 0.05 / 20e-6    # + 25 s at 20 µA
    t_off2 = t_on + 0.01 * 0.05 / 80e-6   # back on at 1.95 V, off again at 1.9 V 6.25 s later
    off = (t > t_off + 0.1) & (t < t_on - 0.1)
    assert on[t < t_off - 0.1].min() == 1.0 and on[off].max() == 0.0
    assert on[(t > t_on + 0.1) & (t < t_off2 - 0.1)].min() == 1.0 and on[t > t_off2 + 0.1].max() == 0.0
    assert np.all(i[off] == 0.0)
    assert np.allclose(v[off], 1.9 + 20e-6 * (t[off] - t_off) / 0.01, rtol=0, atol=1e-9)
    offs = [e.t for e in result.events if e.source == "dut" and "off" in e.message]
    ons = [e.t for e in result.events if e.source == "dut" and "on" in e.message and "off" not in e.message]
    assert offs == pytest.approx([t_off, t_off2], rel=1e-9) and ons == pytest.approx([t_on], rel=1e-9)
    assert result.summary["dut_dropouts"] == 2 and result.summary["brownouts"] == 0
    balance_ok(result)


def test_each_load_has_its_own_minimum_voltage():
    # two loads on one store: only the one with the higher v_min drops out
    data = _scenario([{"type": "constant", "name": "hi", "current": "50 uA", "v_min": "2.5 V"},
                      {"type": "constant", "name": "lo", "current": "50 uA", "v_min": "1.5 V"}], 30.0,
                     storage={"capacitance": "10 mF", "initial_voltage": "2.6 V"})
    result = sysim.simulate(sysim.from_dict(data))
    assert result.column("hi_on")[-1] == 0.0 and result.column("lo_on")[-1] == 1.0
    t_off = 0.01 * 0.1 / 100e-6  # 10 s with both drawing
    v_end = 2.5 - 50e-6 * (30.0 - t_off) / 0.01
    assert result.summary["final_voltage_V"] == pytest.approx(v_end, rel=1e-12)


def test_type_may_name_a_preset_and_keys_override_it():
    scenario = sysim.from_dict(_scenario([{"type": "nrf52832-ble-adv", "interval": "2 s"}], 10.0))
    table = scenario.loads[0][1]
    assert table.preset == "nrf52832-ble-adv" and table.interval == 2.0 and table.tx_current[1][1] == 5.3e-3
    scenario = sysim.from_dict(_scenario([{"type": "ble", "preset": "nrf52832-ble-conn"}], 10.0))
    assert scenario.loads[0][1].mode == "connection"
    with pytest.raises(ScenarioError) as err:
        sysim.from_dict(_scenario([{"type": "nrf52832-ble-adv", "intervall": "2 s"}], 10.0))
    assert "load[0].intervall: unknown key" in str(err.value)


def test_unknown_rail_is_a_scenario_error():
    with pytest.raises(ScenarioError) as err:
        sysim.from_dict(_scenario([{"type": "constant", "current": "1 uA", "rail": "ldo3"}], 10.0))
    assert "load[0].rail" in str(err.value) and "unknown rail 'ldo3'" in str(err.value)


def test_mcu_sleep_current_follows_the_ambient_temperature():
    # MSP430FR5969 LPM3: 0.4-0.6 µA at 25 °C, 1.6-1.85 µA at 85 °C (models-and-numerics.md §4.4)
    def drawn(ambient):
        data = _scenario([{"type": "msp430fr5969-mcu", "name": "mcu"}], 1000.0)
        if ambient:
            data["simulation"]["ambient_temperature"] = ambient
        return _drawn_charge(sysim.simulate(sysim.from_dict(data))) / 1000.0

    assert drawn(None) == pytest.approx(0.5e-6, rel=1e-9)
    assert drawn("25 degC") == pytest.approx(0.5e-6, rel=1e-9)
    hot = drawn("85 degC")
    assert 1.6e-6 <= hot <= 1.85e-6 and hot == pytest.approx(0.5e-6 * 2 ** (60 / 34), rel=1e-9)
    # in a duty cycle only the MCU's sleep current scales, not the board's
    load = {"type": "duty-cycle", "name": "node", "period": "1 s", "mcu": "msp430fr5969-mcu",
            "sleep_current": "1 uA", "tasks": [{"duration": "1 ms", "awake": False}]}
    data = _scenario([load], 100.0)
    data["simulation"]["ambient_temperature"] = "85 degC"
    assert _drawn_charge(sysim.simulate(sysim.from_dict(data))) / 100.0 == pytest.approx(1e-6 + hot, rel=1e-9)
