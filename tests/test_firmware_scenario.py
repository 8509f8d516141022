"""The [firmware] table: every mistake names the key and the reason (exit code 2 on the CLI)."""
import subprocess
import sys

import pytest

from firmware_bridge.mcu import MCU_CLASSES
from firmware_helpers import firmware_scenario
from firmware_bridge.api import run
from sysim.errors import ScenarioError
from sysim.scenario.registry import PRESETS


@pytest.mark.parametrize("firmware, key, reason", [
    ({"script": "missing.py"}, "firmware.script", "file not found"),
    ({"pins": {"5": "nothing"}}, "firmware.pins.5", "no [[load]] named 'nothing'"),
    ({"runner": "jython"}, "firmware.runner", "unknown runner 'jython'"),
    ({"runner": "serial:"}, "firmware.runner", "unknown runner"),
    ({"mcu": "z80"}, "firmware.mcu", "unknown MCU class 'z80'"),
    ({"mcu": {"preset": "nrf52", "sleep_current": "-1 uA"}}, "firmware.mcu.sleep_current", "must not be negative"),
    ({"adc": {"0": {"divider": 2.0}}}, "firmware.adc.0.divider", "less than or equal to 1"),
    ({"adc": {"0": {"source": "storage", "bits": 20}}}, "firmware.adc.0.bits", "between 8 and 16"),
    ({"pins": {"5 6": "radio"}}, "firmware.pins", "id '5 6'"),
    ({"pins": {"5": "radio", "6": "radio"}}, "firmware", "switched by pin 5 and pin 6"),
    ({"active_time": "1 V"}, "firmware.active_time", "time"),
    ({"colour": "red"}, "firmware.colour", "unknown key"),
])
def test_firmware_table_errors_name_the_key(tmp_path, firmware, key, reason):
    with pytest.raises(ScenarioError) as err:
        firmware_scenario(tmp_path, "import machine\n", firmware=firmware)
    assert err.value.key == key
    assert reason in err.value.reason


def test_a_load_may_not_take_the_mcu_name(tmp_path):
    with pytest.raises(ScenarioError, match=r"load\[1\].name: 'mcu' is the name of the firmware's own component"):
        firmware_scenario(tmp_path, "import machine\n", load=[{"type": "constant", "name": "radio", "current": "1 mA"},
                                                              {"type": "constant", "name": "mcu", "current": "1 mA"}])


def test_an_unknown_adc_source_is_reported_when_the_node_is_built(tmp_path):
    scenario = firmware_scenario(tmp_path, "import machine\n", firmware={"adc": {"0": {"source": "pmic"}}})
    with pytest.raises(ScenarioError) as err:
        run(scenario)
    assert err.value.key == "firmware.adc.0.source" and "unknown source 'pmic'" in err.value.reason


def test_mcu_classes_are_presets_with_sources():
    assert set(MCU_CLASSES) == {"nrf52", "stm32l0", "msp430", "rp2040"}
    nrf = PRESETS["mcu-nrf52"]
    assert nrf.kind == "mcu" and "§4.4" in nrf.source and nrf.values["active_current"] == "3.4 mA"
    assert MCU_CLASSES["nrf52"].sleep_current_A == pytest.approx(2.0e-6)
    assert MCU_CLASSES["msp430"].deepsleep_current_A == pytest.approx(0.3e-6)
    assert not PRESETS["mcu-rp2040"].verified


def test_cli_exit_code_2_for_a_bad_firmware_table(tmp_path):
    (tmp_path / "s.toml").write_text('[simulation]\nduration = "1 h"\n[storage]\nmodel = "supercap"\n'
                                     'capacitance = "1 F"\n[firmware]\nscript = "nope.py"\n')
    done = subprocess.run([sys.executable, "-m", "sysim", "firmware", "run", str(tmp_path / "s.toml")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "firmware.script: file not found" in done.stderr and "Traceback" not in done.stderr
