"""`sysim presets` lists the load library with sources; the example scenarios run."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sysim
from conftest import balance_ok

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _sysim(*args):
    env = {**os.environ, "COLUMNS": "300"}
    return subprocess.run([sys.executable, "-m", "sysim", *args], capture_output=True, text=True, timeout=120, env=env)


def test_presets_lists_the_load_library_with_sources():
    proc = _sysim("presets", "--kind", "load")
    assert proc.returncode == 0, proc.stderr
    for name in ("nrf52832-ble-adv", "sx1276-lora-uplink", "bme280-forced-1hz", "adxl362-100hz", "nrf52832-mcu",
                 "stm32l0-mcu", "msp430fr5969-mcu", "rp2040-mcu", "led-red", "epaper-2in13-full-refresh",
                 "sharp-memory-lcd-1in35", "tps7a02-1v8", "tps62740-1v8"):
        assert name in proc.stdout
    assert "Laird BL652" in proc.stdout and "Semtech SX1276" in proc.stdout and "Bosch BME280" in proc.stdout
    everything = _sysim("presets")
    assert everything.returncode == 0 and "nrf52832-ble-adv" in everything.stdout and " load " in everything.stdout


def test_presets_shows_one_entry_with_its_figures():
    proc = _sysim("presets", "nrf52832-ble-adv")
    assert proc.returncode == 0, proc.stderr
    assert "source:" in proc.stdout and "4.377 ms" in proc.stdout and "event_charge: 10.6 uC" in proc.stdout
    assert "hfxo_current" in proc.stdout


@pytest.mark.parametrize("name,duration", [("ble-beacon-ldo.toml", 6 * 3600.0), ("lora-sensor-duty-cycle.toml", 3600.0),
                                           ("led-capacitor-discharge.toml", 3.0), ("ppk2-trace.toml", 600.0)])
def test_examples_run_and_balance(name, duration):
    result = sysim.simulate(sysim.load(EXAMPLES / name), duration=duration)
    assert result.summary["duration_s"] == pytest.approx(duration)
    balance_ok(result)


def test_the_ble_example_drops_out_below_the_socs_minimum():
    # without the harvester the beacon empties the store: the LDO drops out at 1.83 V, then the
    # SoC stops at its 1.7 V minimum (storage 1.73 V) and draws nothing more
    scenario = sysim.load(EXAMPLES / "ble-beacon-ldo.toml").with_changes(
        {"harvester[0].steps": [], "storage.initial_voltage": "1.9 V", "simulation.duration": "3 h"})
    result = sysim.simulate(scenario)
    messages = [(e.source, e.message) for e in result.events]
    assert ("ldo", "dropout: storage below 1.83 V, rail follows the storage") in messages
    assert any(src == "beacon" and "load off" in msg for src, msg in messages)
    assert result.column("beacon_on")[-1] == 0.0 and result.column("ldo_mode")[-1] == 2.0
    assert result.summary["brownouts"] == 0
