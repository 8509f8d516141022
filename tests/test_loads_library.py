"""The load library against its sources: LoRa airtime (Semtech formula), the BL652 BLE anchor,
the BME280 averages, LED I–V, and the presets' published figures."""
import math

import pytest
from scipy.optimize import brentq

import sysim
from sysim.errors import ScenarioError
from loads import ble, lora
from loads.led import LedModel, led_current, led_voltage, thermal_voltage
from sysim.scenario.registry import PRESETS


def _table(load):
    """The validated [[load]] table of a one-load scenario."""
    data = {"simulation": {"duration": "1 s"}, "storage": {"model": "supercap", "capacitance": "1 F",
                                                           "initial_voltage": "3 V"}, "load": [load]}
    return sysim.from_dict(data).loads[0][1]


def semtech_time_on_air(pl, sf, bw, cr=1, n_preamble=8, crc=1, ih=0, de=None):
    """Semtech SX1276 datasheet §4.1.1.7 / AN1200.13, written out independently (floats, math.ceil)."""
    t_sym = (2.0 ** sf) / bw
    if de is None:
        de = 1 if t_sym > 0.016 else 0
    t_preamble = (n_preamble + 4.25) * t_sym
    payload_symb_nb = 8 + max(math.ceil((8.0 * pl - 4.0 * sf + 28 + 16 * crc - 20 * ih) / (4.0 * (sf - 2 * de)))
                              * (cr + 4), 0)
    return t_preamble + payload_symb_nb * t_sym


SETTINGS = [(sf, bw, pl, cr) for sf in range(7, 13) for bw in (125e3, 250e3)
            for pl in (1, 13, 20, 51, 115, 222) for cr in (1, 4)]


@pytest.mark.parametrize("sf,bw,pl,cr", SETTINGS)
def test_lora_airtime_equals_the_semtech_formula(sf, bw, pl, cr):
    assert lora.airtime(pl, sf, bw, cr) == pytest.approx(semtech_time_on_air(pl, sf, bw, cr), rel=1e-12)


def test_lora_airtime_reproduces_the_reference_anchors():
    # models-and-numerics.md §4.2: PL = 13 B, CR 4/5, 8-symbol preamble, CRC on, 125 kHz
    assert lora.airtime(13, 7, 125e3) * 1e3 == pytest.approx(46.3, abs=0.05)
    assert lora.airtime(13, 9, 125e3) * 1e3 == pytest.approx(164.9, abs=0.05)
    assert lora.airtime(13, 12, 125e3) * 1e3 == pytest.approx(1155, abs=0.5)
    # the rest of the well-known 13-byte row (SF8, SF10, SF11 at 125 kHz), exactly in symbols
    assert lora.airtime(13, 8, 125e3) == pytest.approx((12.25 + 28) * 2.048e-3, rel=1e-12)   # 82.432 ms
    assert lora.airtime(13, 10, 125e3) == pytest.approx((12.25 + 23) * 8.192e-3, rel=1e-12)  # 288.768 ms
    assert lora.airtime(13, 11, 125e3) == pytest.approx((12.25 + 23) * 16.384e-3, rel=1e-12)  # 577.536 ms (LDRO on)


def test_lora_options_change_the_symbol_count_as_the_formula_says():
    base = lora.payload_symbols(13, 7)
    assert base == 25 + 8
    assert lora.payload_symbols(13, 7, crc=False) == 8 + 4 * 5                   # 16 bits less: one block less
    assert lora.payload_symbols(13, 7, implicit_header=True) == 8 + 4 * 5
    assert lora.payload_symbols(13, 12, low_data_rate_optimize=True) == 8 + 3 * 5
    assert lora.payload_symbols(13, 12, low_data_rate_optimize=False) == 8 + 3 * 5
    assert lora.payload_symbols(0, 12, crc=False, implicit_header=True) == 8      # max(.., 0)
    assert not lora.low_data_rate_optimize_auto(10, 125e3) and lora.low_data_rate_optimize_auto(11, 125e3)
    assert not lora.low_data_rate_optimize_auto(11, 250e3) and lora.low_data_rate_optimize_auto(12, 250e3)


def test_lora_table_validates_settings():
    with pytest.raises(ScenarioError) as err:
        _table({"type": "lora", "bandwidth": "100 kHz"})
    assert "bandwidth" in str(err.value) and "kHz" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        _table({"type": "lora", "tx_power": 21})
    assert "tx_power 21 dBm is outside" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        _table({"type": "lora", "spreading_factor": 12, "interval": "2 s"})
    assert "longer than the interval" in str(err.value)


def test_lora_uplink_charge_reproduces_the_reference_figures():
    # models-and-numerics.md §4.2: charge per uplink at 87 mA: 4.0 / 14.3 / 100 mC (TX only)
    preset = PRESETS["sx1276-lora-uplink"]
    assert preset.figures["tx_charge_sf7"] == "4.0 mC"
    for sf, expected_mC, printed in ((7, 4.0, 0.05), (9, 14.3, 0.05), (12, 100.0, 0.5)):
        event = _table({"type": "lora", "spreading_factor": sf}).event(None)
        tx = event.states[0]
        assert tx.label == "tx" and tx.current_A == pytest.approx(87e-3)
        assert tx.charge_C() * 1e3 == pytest.approx(expected_mC, abs=printed)  # as printed
    # class A: RX1 1 s after the uplink at SF7 (8 symbols), RX2 2 s after at SF12/125 kHz
    event = _table({"type": "lora"}).event(None)
    labels = [s.label for s in event.states]
    assert labels == ["tx", "wait", "rx1", "wait", "rx2"]
    assert event.states[1].duration_s == pytest.approx(1.0)
    assert event.states[2].duration_s == pytest.approx(8 * 1.024e-3)
    assert event.states[4].duration_s == pytest.approx(8 * 32.768e-3)
    rx2_start = sum(s.duration_s for s in event.states[:4]) - event.states[0].duration_s
    assert rx2_start == pytest.approx(2.0)


def test_tx_current_table_is_exact_at_points_and_linear_between():
    table = [(13, 29e-3), (17, 87e-3), (20, 120e-3)]
    assert lora.tx_current_at(17, table) == 87e-3
    assert lora.tx_current_at(18.5, table) == pytest.approx(103.5e-3)
    with pytest.raises(ValueError):
        lora.tx_current_at(12, table)


def test_ble_advertising_event_reproduces_the_bl652_measurement():
    # models-and-numerics.md §4.1: 4.377 ms burst at 2.43 mA mean (0 dBm) = 10.6 µC per event
    event = _table({"type": "ble"}).event(None)
    assert event.duration_s * 1e3 == pytest.approx(4.377, abs=1e-9)
    assert event.charge_C() / event.duration_s * 1e3 == pytest.approx(2.43, abs=5e-4)
    assert round(event.charge_C() * 1e6, 1) == 10.6
    # 1 s interval: 10.6 µA + 2 µA sleep ≈ 12.6 µA
    assert event.average_current(1.0) * 1e6 == pytest.approx(12.6, abs=0.05)
    # three channels, each 0.4 ms at 31 B: (16 + 31)·8 µs on air + 24 µs
    tx = [s for s in event.states if s.label == "tx"]
    assert len(tx) == 3 and all(s.duration_s == pytest.approx(0.4e-3) and s.current_A == 5.3e-3 for s in tx)


def test_ble_event_scales_with_payload_power_and_connectable():
    base = _table({"type": "ble"}).event(None)
    short = _table({"type": "ble", "payload": 0}).event(None)
    assert base.charge_C() - short.charge_C() == pytest.approx(3 * 31 * 8e-6 * 5.3e-3, rel=1e-9)
    loud = _table({"type": "ble", "tx_power": 4}).event(None)
    assert loud.charge_C() - base.charge_C() == pytest.approx(3 * 0.4e-3 * (7.5e-3 - 5.3e-3), rel=1e-9)
    conn = _table({"type": "ble", "connectable": True}).event(None)
    assert conn.charge_C() - base.charge_C() == pytest.approx(3 * 0.12e-3 * 5.4e-3, rel=1e-9)
    with pytest.raises(ScenarioError) as err:
        _table({"type": "ble", "payload": 40})
    assert "at most 31 bytes" in str(err.value)
    event = ble.connection_event(0, 0, 5.3e-3, 5.4e-3, 3e-3, 0, 0, 0, 0, 0, 0, 2e-6)
    assert event.duration_s == pytest.approx(80e-6 + 150e-6 + 80e-6)


def test_bme280_reproduces_the_datasheet_averages():
    # Bosch BME280 DS: 1.8 µA (H+T), 2.8 µA (P+T), 3.6 µA (H+P+T) at 1 Hz, x1 oversampling
    for keys, expected in (({"osrs_p": 0}, 1.8e-6), ({"osrs_h": 0}, 2.8e-6), ({}, 3.6e-6)):
        table = _table({"type": "bme280", **keys})
        assert table.event(None).average_current(1.0) == pytest.approx(expected, rel=1e-3)
    assert _table({"type": "bme280"}).measurement_time() == pytest.approx(8e-3)
    # 16x oversampling on all three: 1 + 32 + 32.5 + 32.5 ms
    assert _table({"type": "bme280", "osrs_t": 16, "osrs_p": 16, "osrs_h": 16}).measurement_time() == pytest.approx(98e-3)


def test_led_closed_form_solves_the_implicit_shockley_equation():
    n, i_s, r = 2.0, 1e-18, 105.0
    nvt = n * thermal_voltage(298.15)
    for v in (1.5, 1.8, 1.9, 2.2, 3.0, 5.0, 40.0):
        i = led_current(v, i_s, n, r)
        implicit = brentq(lambda x: x * r + nvt * math.log1p(x / i_s) - v, 0.0, v / r, xtol=1e-22, rtol=1e-14)
        assert i == pytest.approx(implicit, rel=1e-9, abs=1e-21)
        assert led_voltage(i, i_s, n, r) == pytest.approx(v, rel=1e-9)
    # the reference's red LED: V_f ≈ 1.9 V at 10 mA for the diode alone
    assert led_voltage(10e-3, 1e-18, 2.0, 0.0) == pytest.approx(1.9, abs=0.01)
    assert led_voltage(10e-3, 5e-19, 3.0, 0.0) == pytest.approx(2.9, abs=0.01)
    # a huge argument (W in log space) does not overflow
    assert LedModel(1e-30, 1.0, 1.0)(1000.0) == pytest.approx(998.0, rel=1e-3)


def test_mcu_active_current_scales_with_clock():
    nrf = _table({"type": "nrf52832-mcu", "state": "active"})
    assert nrf.active_A() == pytest.approx(3.4e-3, rel=1e-9)  # 3.4 mA at 64 MHz (DC/DC)
    stm = _table({"type": "stm32l0-mcu", "clock": "16 MHz", "state": "active"})
    assert stm.active_A() == pytest.approx(16 * 85e-6)
    with pytest.raises(ScenarioError) as err:
        _table({"type": "stm32l0-mcu", "clock": "48 MHz"})
    assert "above this MCU's maximum" in str(err.value)


def test_every_load_preset_cites_a_source_and_builds():
    loads = [p for p in PRESETS.values() if p.kind == "load"]
    assert len(loads) >= 18
    for preset in loads:
        assert preset.source and preset.title
        if preset.values["type"] in ("ldo", "buck"):
            data = {"regulator": {"r": {"preset": preset.name}}, "load": [{"type": "constant", "current": "1 mA",
                                                                            "rail": "r"}]}
        else:
            extra = {"resistor": "220 ohm"} if preset.values["type"] == "led" else {}
            data = {"load": [{"type": preset.name, **extra}]}
        data.update({"simulation": {"duration": "2 s", "record_every": "1 s"},
                     "storage": {"model": "supercap", "capacitance": "1 F", "initial_voltage": "3.3 V"}})
        result = sysim.simulate(sysim.from_dict(data))
        assert result.summary["energy_to_loads_J"] > 0, preset.name
