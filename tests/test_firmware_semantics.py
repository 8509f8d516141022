"""Silicon semantics of the emulated machine/time against closed forms (nRF52 class: 3.4 mA active,
2.0 µA sleep, 0.7 µA deep sleep; 1 ms of active time per code segment)."""
import datetime as dt
import math

import pytest

from conftest import balance_ok
from firmware_helpers import firmware_scenario, prints, run_firmware
from firmware_bridge.api import run
from firmware_bridge.inprocess import _agent_namespace

I_ACTIVE, I_SLEEP, I_DEEP, T_ACTIVE = 3.4e-3, 2.0e-6, 0.7e-6, 1e-3


def charge(segments):
    return math.fsum(i * d for i, d in segments)


def test_lightsleep_cycle_matches_the_charge_closed_form(tmp_path):
    res = run_firmware(tmp_path, """
        import machine
        while True:
            machine.lightsleep(1000)
    """)
    period = T_ACTIVE + 1.0
    wakes = [t for t, k, _ in res.timeline if k == "wake"]
    assert wakes == pytest.approx([period * (k + 1) for k in range(59)], abs=1e-12)
    full = 59
    t_last = full * period
    q = full * (I_ACTIVE * T_ACTIVE + I_SLEEP * 1.0) + I_ACTIVE * T_ACTIVE + I_SLEEP * (60.0 - t_last - T_ACTIVE)
    assert res.summary["final_voltage_V"] == pytest.approx(3.0 - q / 10e-3, rel=1e-12)
    assert res.summary["mcu_active_s"] == pytest.approx((full + 1) * T_ACTIVE, rel=1e-9)
    balance_ok(res.result)


def test_a_pin_switches_its_load_for_exactly_the_busy_time(tmp_path):
    res = run_firmware(tmp_path, """
        import machine, time
        radio = machine.Pin(5, machine.Pin.OUT)
        while True:
            radio.on()
            time.sleep_ms(20)       # radio and MCU active for 1 ms of code + 20 ms
            radio.off()
            machine.lightsleep(979)
    """, simulation={"duration": "10.5 s"})
    period = 0.021 + 0.001 + 0.979
    n = 10  # whole cycles before 10.5 s; the 11th is in its sleep at the end
    per_cycle = [(5e-3 + I_ACTIVE, 0.021), (I_ACTIVE, 0.001), (I_SLEEP, 0.979)]
    tail = [(5e-3 + I_ACTIVE, 0.021), (I_ACTIVE, 0.001), (I_SLEEP, 10.5 - n * period - 0.022)]
    q = n * charge(per_cycle) + charge(tail)
    assert res.summary["final_voltage_V"] == pytest.approx(3.0 - q / 10e-3, rel=1e-12)
    pins = [(t, d) for t, k, d in res.timeline if k == "pin"]
    assert pins[:4] == [(0.0, ("5", 1)), (pytest.approx(0.021), ("5", 0)), (pytest.approx(period), ("5", 1)),
                        (pytest.approx(period + 0.021), ("5", 0))]
    assert res.result.column("pin_5").max() == 1.0
    balance_ok(res.result)


def test_adc_quantises_the_divided_storage_voltage(tmp_path):
    res = run_firmware(tmp_path, """
        import machine
        a, b = machine.ADC(0), machine.ADC(machine.Pin(1))
        print(a.read_uv(), a.read_u16(), b.read_u16())
        machine.lightsleep()
    """, firmware={"adc": {"0": {"divider": 0.5}, "1": {"divider": 1.0}}}, storage={"initial_voltage": "3.9 V"})
    raw = math.floor(1.95e6 * 4096 / 3.6e6)  # nRF52 SAADC: 12 bits over 3.6 V
    assert prints(res) == [f"{raw * 3_600_000 // 4096} {(raw << 4) | (raw >> 8)} 65535"]  # 3.9 V saturates


def test_deepsleep_restarts_the_script_and_keeps_rtc_memory(tmp_path):
    res = run_firmware(tmp_path, """
        import machine
        rtc = machine.RTC()
        mem = rtc.memory()
        count = mem[0] if mem else 0
        print(machine.reset_cause(), count, machine.wake_reason())
        rtc.memory(bytes([count + 1]))
        machine.deepsleep(2000)
    """, simulation={"duration": "7 s"})
    assert prints(res) == ["1 0 0", "4 1 4", "4 2 4", "4 3 4"]
    boots = [t for t, k, _ in res.timeline if k == "boot"]
    assert boots == pytest.approx([0.0, 2.001, 4.002, 6.003], abs=1e-12)
    assert res.summary["mcu_deepsleep_s"] == pytest.approx(7.0 - 4 * T_ACTIVE, rel=1e-9)
    q = 4 * I_ACTIVE * T_ACTIVE + I_DEEP * (7.0 - 4 * T_ACTIVE)
    assert res.summary["final_voltage_V"] == pytest.approx(3.0 - q / 10e-3, rel=1e-12)


def test_brownout_stops_the_firmware_and_it_boots_with_a_power_on_reset(tmp_path):
    res = run_firmware(tmp_path, """
        import machine, time
        rtc = machine.RTC()
        print(machine.reset_cause(), rtc.memory(), rtc.datetime()[0])
        rtc.memory(b'x')
        rtc.datetime((2031, 5, 6, 0, 7, 8, 9, 0))
        machine.Pin(5, machine.Pin.OUT).on()
        time.sleep_ms(100)
        print("survived")
    """, storage={"capacitance": "1 mF", "initial_voltage": "2.0 V", "v_min": "1.8 V", "v_min_hysteresis": "0.1 V"},
        harvester=[{"type": "current", "current": "50 uA"}], simulation={"duration": "5 s", "record_every": "0.1 s"})
    # radio 5 mA + MCU 3.4 mA - 50 µA harvest take 0.2 V off 1 mF in 23.95 ms
    t_brownout = 1e-3 * 0.2 / (5e-3 + I_ACTIVE - 50e-6)
    assert res.summary["first_brownout_s"] == pytest.approx(t_brownout, rel=1e-9)
    kinds = [k for _, k, _ in res.timeline]
    assert kinds[:7] == ["boot", "print", "pin", "brownout", "pin", "restore", "boot"]  # the pin drops with the power
    assert set(prints(res)) == {"1 b'' 2000"}  # memory and RTC lost with the power; never "survived"
    assert res.summary["brownouts"] >= 2
    balance_ok(res.result)


def test_rtc_and_time_follow_the_scenario_start(tmp_path):
    res = run_firmware(tmp_path, """
        import machine, time
        rtc = machine.RTC()
        print(rtc.datetime(), time.localtime(), time.time())
        machine.lightsleep(90061001)   # 1 d 1 h 1 min 1.001 s
        print(rtc.datetime(), time.gmtime(), time.mktime(time.localtime()))
        machine.lightsleep()
    """, simulation={"duration": "2 d", "record_every": "1 h", "start": "2028-02-28T23:00:00"})
    start = dt.datetime(2028, 2, 28, 23, 0, 0, tzinfo=dt.timezone.utc)
    later = start + dt.timedelta(seconds=90061, milliseconds=2)
    def tup(d):
        return (d.year, d.month, d.day, d.weekday(), d.hour, d.minute, d.second, d.microsecond)
    def tm(d):
        return (d.year, d.month, d.day, d.hour, d.minute, d.second, d.weekday(), d.timetuple().tm_yday)
    first, second = prints(res)
    assert first == f"{tup(start)} {tm(start)} {int(start.timestamp())}"
    assert second == f"{tup(later)} {tm(later)} {int(later.timestamp())}"  # through 29 February 2028


def test_ticks_wrap_like_micropython():
    ns, modules, _ = _agent_namespace(__import__("pathlib").Path(__file__).parent / "data" / "firmware_noop.py")
    t = modules["time"]
    period = 1 << 30
    assert t.ticks_add(period - 10, 25) == 15
    assert t.ticks_diff(15, period - 10) == 25
    assert t.ticks_diff(period - 10, 15) == -25
    assert t.ticks_diff(t.ticks_add(100, period // 2 - 1), 100) == period // 2 - 1


def test_watchdog_resets_a_node_that_sleeps_past_its_timeout(tmp_path):
    res = run_firmware(tmp_path, """
        import machine
        print(machine.reset_cause())
        wdt = machine.WDT(timeout=2000)
        while True:
            machine.lightsleep(3000)
    """, simulation={"duration": "5 s"})
    assert prints(res) == ["1", "3", "3"]
    assert [t for t, k, _ in res.timeline if k == "watchdog"] == pytest.approx([2.0, 4.0], abs=1e-12)
    assert res.summary["firmware_watchdog_resets"] == 2
    fed = run_firmware(tmp_path, """
        import machine
        wdt = machine.WDT(timeout=2000)
        while True:
            wdt.feed()
            machine.lightsleep(1500)
    """, simulation={"duration": "10 s"})
    assert fed.summary["firmware_watchdog_resets"] == 0 and fed.summary["firmware_boots"] == 1


def test_timer_callbacks_run_during_a_busy_sleep(tmp_path):
    res = run_firmware(tmp_path, """
        import machine, time
        t = machine.Timer(0, period=250, callback=lambda tm: print("tick", time.ticks_ms()))
        time.sleep_ms(1000)
        t.deinit()
        print("done", time.ticks_ms())
        machine.lightsleep(5000)
        print("slept", time.ticks_ms())
        machine.lightsleep()
    """, simulation={"duration": "10 s"})
    assert prints(res) == ["tick 250", "tick 500", "tick 750", "tick 1000", "done 1001", "slept 6002"]


def test_machine_freq_scales_the_active_current(tmp_path):
    script = """
        import machine
        machine.freq({hz})
        print(machine.freq())
        machine.lightsleep()
    """
    res = run_firmware(tmp_path, script.format(hz=16_000_000), firmware={"mcu": "stm32l0", "active_time": "1 s"},
                       simulation={"duration": "2 s"})
    assert prints(res) == ["16000000"]
    q = 2.72e-3 * 16 / 32 * 1.0 + 0.8e-6 * 1.0
    assert res.summary["final_voltage_V"] == pytest.approx(3.0 - q / 10e-3, rel=1e-12)
    bad = run_firmware(tmp_path, script.format(hz=48_000_000), firmware={"mcu": "stm32l0"},
                       simulation={"duration": "2 s"})
    assert bad.summary["firmware_exceptions"] >= 1
    assert "ValueError" in [d for _, k, d in bad.timeline if k == "exception"][0]


def test_the_script_returning_leaves_the_mcu_idle_until_its_watchdog(tmp_path):
    res = run_firmware(tmp_path, """
        import machine
        print(machine.reset_cause())
        machine.WDT(timeout=3000)
    """, simulation={"duration": "7 s"})
    assert prints(res) == ["1", "3", "3"]
    assert [t for t, k, _ in res.timeline if k == "boot"] == pytest.approx([0.0, 3.0, 6.0], abs=1e-12)


def test_firmware_modules_beside_the_script_are_forgotten_at_reset(tmp_path):
    (tmp_path / "counter.py").write_text("n = 0\n")
    res = run_firmware(tmp_path, """
        import machine, counter
        counter.n += 1
        print(counter.n)
        machine.deepsleep(1000)
    """, simulation={"duration": "3.5 s"})
    assert prints(res) == ["1", "1", "1", "1"]


def test_scenario_built_from_the_api_without_the_firmware_table_is_refused(tmp_path):
    scenario = firmware_scenario(tmp_path, "import machine\n")
    data = dict(scenario.data)
    del data["firmware"]
    import sysim
    from sysim.errors import ScenarioError
    with pytest.raises(ScenarioError, match="no \\[firmware\\] table"):
        run(sysim.from_dict(data, base_dir=str(tmp_path)))
