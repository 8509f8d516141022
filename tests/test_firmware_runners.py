"""The same firmware under the three runners, and the faults each can meet.

* the example firmwares give the same event sequence (wakes, pin switches, brown-outs, boots)
  under CPython and under the real MicroPython interpreter;
* the serial runner end to end: a MicroPython process on a pseudo-terminal plays the board and
  runs the agent the bridge uploads through its raw REPL, as on hardware;
* faults — an exception, an endless loop, garbage on the protocol, the interpreter killed, the
  serial port vanishing — each give a clear error and keep the results recorded so far.
"""
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sysim
from conftest import balance_ok
from firmware_bridge.api import run
from firmware_bridge.channels import micropython_command
from firmware_bridge.runner import FirmwareRunner
from firmware_helpers import comparable, firmware_scenario, prints, run_firmware

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "firmware"
RUNNERS = ["cpython", "micropython"]


@contextlib.contextmanager
def pty_board():
    """A MicroPython unix process on the master side of a pseudo-terminal: the 'board'. The
    bridge opens the slave side as it would open /dev/ttyACM0."""
    master, slave = os.openpty()
    proc = subprocess.Popen(micropython_command(), stdin=master, stdout=master, stderr=master, close_fds=True)
    os.close(master)
    try:
        yield os.ttyname(slave), proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(slave)


def firmware_of(sim) -> FirmwareRunner:
    return next(c for c in sim.components if isinstance(c, FirmwareRunner))


def kill_at(t_kill, kill):
    def on_step(sim):
        if sim.now >= t_kill and not getattr(on_step, "done", False):
            on_step.done = True
            kill(firmware_of(sim))
    return on_step


def assert_stopped_with(res, fragment: str, t_min: float, t_max: float):
    s = res.summary
    assert s["interrupted"] is True
    assert fragment in s["firmware_error"], s["firmware_error"]
    assert t_min <= s["duration_s"] <= t_max
    t = res.result.column("time_s")
    assert len(t) >= 2 and t[-1] == pytest.approx(s["duration_s"])  # the trace holds what ran
    balance_ok(res.result)


@pytest.mark.parametrize("example, kinds", [("fixed_duty", {"brownout", "restore"}),
                                            ("adaptive", {"deepsleep"}),
                                            ("store_and_forward", {"brownout", "print"})])
def test_each_example_gives_the_same_events_under_cpython_and_micropython(example, kinds):
    scenario = sysim.load(EXAMPLES / f"{example}.toml")
    runs = {r: run(scenario, runner=r, duration=9 * 3600.0, record_every=60.0) for r in RUNNERS}
    a, b = (comparable(runs[r].timeline) for r in RUNNERS)
    assert len(a) > 500
    assert kinds <= {k for _, k, _ in a}
    assert {k for _, k, _ in a} >= {"boot", "wake", "pin"}
    assert a == b
    assert runs["cpython"].summary["final_voltage_V"] == runs["micropython"].summary["final_voltage_V"]
    for r in RUNNERS:
        assert runs[r].summary["firmware_error"] is None
        balance_ok(runs[r].result)


def test_serial_board_end_to_end_matches_the_in_process_run():
    scenario = sysim.load(EXAMPLES / "fixed_duty.toml")
    reference = run(scenario, runner="cpython", duration=3 * 3600.0, record_every=60.0)
    with pty_board() as (port, board):
        res = run(scenario, runner=f"serial:{port}", duration=3 * 3600.0, record_every=60.0)
        assert board.poll() is None  # the board is still there, back at its REPL
    assert res.summary["firmware_runner"] == f"serial:{port}"
    assert res.summary["brownouts"] == 1
    assert comparable(res.timeline) == comparable(reference.timeline)
    assert res.summary["final_voltage_V"] == reference.summary["final_voltage_V"]


@pytest.mark.parametrize("runner", RUNNERS)
def test_an_exception_is_reported_with_time_and_traceback_and_resets_the_node(tmp_path, runner):
    res = run_firmware(tmp_path, """
        import machine
        print("boot", machine.reset_cause())
        n = 0
        while True:
            machine.lightsleep(1000)
            n += 1
            if n == 3:
                n = 1 // 0
    """, runner=runner, simulation={"duration": "5 s"})
    (t_exc, _, tb), = [e for e in res.timeline if e[1] == "exception"]
    assert t_exc == pytest.approx(3.003, abs=1e-12)
    assert "ZeroDivisionError" in tb and "fw.py" in tb and "line 8" in tb
    assert prints(res) == ["boot 1", "boot 3"]  # reset as by a watchdog
    assert [t for t, k, _ in res.timeline if k == "boot"] == pytest.approx([0.0, 3.004], abs=1e-12)
    logged = [e for e in res.result.events if "uncaught exception" in e.message]
    assert logged and "t = 3.003 s" in logged[0].message and "ZeroDivisionError" in logged[0].message
    assert res.summary["firmware_exceptions"] == 1 and res.summary["interrupted"] is False


def test_a_crash_loop_stops_the_run_and_keeps_what_ran(tmp_path):
    res = run_firmware(tmp_path, "import machine\nmachine.ADC(7)\n", simulation={"duration": "10 s"})
    assert_stopped_with(res, "crashed 10 times in a row", 0.0089, 0.0091)
    assert "no ADC channel 7" in res.summary["firmware_error"]


@pytest.mark.parametrize("runner", RUNNERS)
def test_an_endless_loop_stops_the_run_with_a_clear_message(tmp_path, runner):
    res = run_firmware(tmp_path, """
        import machine
        machine.lightsleep(1000)
        machine.lightsleep(1000)
        while True:
            pass
    """, runner=runner, firmware={"wall_timeout": "0.5 s"}, simulation={"duration": "10 s"})
    assert_stopped_with(res, "without sleeping or yielding", 2.002, 2.002)
    assert "no machine.WDT" in res.summary["firmware_error"]


@pytest.mark.parametrize("runner", RUNNERS)
def test_an_endless_loop_under_a_watchdog_is_reset_by_it(tmp_path, runner):
    res = run_firmware(tmp_path, """
        import machine
        wdt = machine.WDT(timeout=4000)
        machine.lightsleep(1000)
        if machine.reset_cause() == machine.PWRON_RESET:
            while True:
                pass
        print("recovered", machine.reset_cause())
        machine.lightsleep()   # the watchdog keeps running: it resets this boot again at 8 s
    """, runner=runner, firmware={"wall_timeout": "0.5 s"}, simulation={"duration": "7 s"})
    assert res.summary["interrupted"] is False
    assert prints(res) == ["recovered 3"]
    assert [t for t, k, _ in res.timeline if k == "watchdog"] == pytest.approx([4.0], abs=1e-12)


def test_garbage_on_the_protocol_stops_the_run(tmp_path):
    res = run_firmware(tmp_path, """
        import machine, sys
        machine.lightsleep(1000)
        open(int(sys.argv[4]), "wb").write(b"garbage here\\n")   # the agent's protocol pipe
        machine.lightsleep(1000)
    """, runner="micropython", simulation={"duration": "10 s"})
    assert_stopped_with(res, "protocol error: not a protocol message: 'garbage here'", 1.001, 1.001)


def test_garbage_from_a_board_stops_the_run(tmp_path):
    scenario = firmware_scenario(tmp_path, """
        import machine, sys
        machine.lightsleep(1000)
        sys.stdout.write("\\x1b[0mboot noise\\n")   # a raw write to the REPL's stdout
        machine.lightsleep(1000)
    """, simulation={"duration": "10 s"})
    with pty_board() as (port, _):
        res = run(scenario, runner=f"serial:{port}")
    assert_stopped_with(res, "protocol error: not a protocol message", 1.001, 1.001)


def test_the_interpreter_killed_stops_the_run(tmp_path):
    scenario = firmware_scenario(tmp_path, """
        import machine
        while True:
            machine.lightsleep(1000)
    """, simulation={"duration": "60 s"})
    from sysim.api import prepare
    from firmware_bridge.api import FirmwareRun
    from sysim.result import Result

    sim = prepare(scenario.with_changes({"firmware.runner": "micropython"}),
                  on_step=kill_at(20.0, lambda fw: fw.channel.proc.kill()))
    raw = sim.run()
    res = FirmwareRun(Result(raw, scenario), firmware_of(sim).timeline)
    assert_stopped_with(res, "the MicroPython interpreter was killed by signal SIGKILL", 20.0, 21.1)
    assert 19 <= res.summary["firmware_wakes"] <= 21


def test_the_serial_port_vanishing_stops_the_run(tmp_path):
    scenario = firmware_scenario(tmp_path, """
        import machine
        while True:
            machine.lightsleep(1000)
    """, simulation={"duration": "60 s"})
    from sysim.api import prepare
    from firmware_bridge.api import FirmwareRun
    from sysim.result import Result

    with pty_board() as (port, board):
        def pull_the_cable(fw):
            board.kill()
            board.wait()

        sim = prepare(scenario.with_changes({"firmware.runner": f"serial:{port}"}), on_step=kill_at(20.0, pull_the_cable))
        raw = sim.run()
    res = FirmwareRun(Result(raw, scenario), firmware_of(sim).timeline)
    assert_stopped_with(res, f"the serial port {port} vanished", 20.0, 21.1)


def test_cli_runs_an_example_and_reports_a_firmware_fault(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "sysim", "firmware", "run", str(EXAMPLES / "store_and_forward.toml"),
                           "--duration", "1 h", "--runner", "micropython", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "firmware (micropython)" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["firmware_runner"] == "micropython" and summary["firmware_wakes"] > 100
    events = (out / "firmware_events.csv").read_text().splitlines()
    assert events[0] == "time_s,event,detail" and any(",pin,5=1" in e for e in events)

    (tmp_path / "hang.py").write_text("import machine\nmachine.lightsleep(500)\nwhile True:\n    pass\n")
    scenario = tmp_path / "hang.toml"
    scenario.write_text('[simulation]\nduration = "10 s"\n[storage]\nmodel = "supercap"\ncapacitance = "10 mF"\n'
                        'initial_voltage = "3 V"\n[firmware]\nscript = "hang.py"\nwall_timeout = "0.5 s"\n')
    done = subprocess.run([sys.executable, "-m", "sysim", "firmware", "run", str(scenario), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "firmware error:" in done.stderr and "t = 0.501 s" in done.stderr and "Traceback" not in done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["duration_s"] == pytest.approx(0.501)


STAND_IN_MACHINE = '''
# The unix port has no ADC, pins or sleep: this stand-in plays the board's hardware. Its "real
# cell" reads 1.500 V at the ADC pin, falling 1 mV per reading.
import time
_uv = [1_501_000]
class Pin:
    OUT = 3
    IN = 1
    def __init__(self, id, mode=-1, *a, **k):
        self.v = 0
    def value(self, x=None):
        if x is None:
            return self.v
        self.v = x
class ADC:
    def __init__(self, id, *a, **k):
        pass
    def read_uv(self):
        _uv[0] -= 1000
        return _uv[0]
def lightsleep(ms=None):
    time.sleep_ms(ms)
def reset_cause():
    return 1
PWRON_RESET = 1
DEEPSLEEP_RESET = 4
'''


def test_serial_board_real_cell_mode_replays_the_boards_decisions(tmp_path):
    (tmp_path / "machine.py").write_text(STAND_IN_MACHINE)
    (tmp_path / "fw.py").write_text(
        "import machine, time\n"
        "adc, radio = machine.ADC(0), machine.Pin(5, machine.Pin.OUT)\n"
        "if machine.reset_cause() == machine.DEEPSLEEP_RESET:\n"
        "    print('woke from deep sleep', adc.read_uv())\n"
        "else:\n"
        "    for i in range(3):\n"
        "        adc.read_uv()\n"
        "        radio.on()\n"
        "        time.sleep_ms(50)\n"
        "        radio.off()\n"
        "        machine.lightsleep(100)\n"
        "    machine.deepsleep(100)\n")
    master, slave = os.openpty()
    board = subprocess.Popen(micropython_command(), stdin=master, stdout=master, stderr=master, close_fds=True,
                             cwd=tmp_path)
    os.close(master)
    try:
        scenario = sysim.from_dict({
            "simulation": {"duration": "3 s", "record_every": "0.05 s"},
            "storage": {"model": "supercap", "capacitance": "10 mF", "initial_voltage": "3 V"},
            "load": [{"type": "constant", "name": "radio", "current": "5 mA"}],
            "firmware": {"script": "fw.py", "runner": f"serial:{os.ttyname(slave)}", "board_mode": "real-cell",
                         "adc": {"0": {"divider": 0.5}}, "pins": {"5": "radio"}}}, base_dir=str(tmp_path))
        res = run(scenario)
    finally:
        board.kill()
        board.wait()
        os.close(slave)
    s = res.summary
    assert s["firmware_error"] is None and s["firmware_boots"] == 2 and s["real_cell_readings"] == 4
    pins = [(t, d[1]) for t, k, d in res.timeline if k == "pin"]
    assert [level for _, level in pins] == [1, 0] * 3
    for (t_on, _), (t_off, _) in zip(pins[::2], pins[1::2]):
        assert 0.045 <= t_off - t_on <= 0.5  # the board's real 50 ms, on the board's clock
    readings = [d for _, k, d in res.timeline if k == "adc"]
    assert [round(real, 6) for _, real, _ in readings] == [3.0, 2.998, 2.996, 2.994]  # 1.5 V / 0.5 divider...
    # ...beside the simulated storage, which the same decisions (5 mA radio, nRF52 MCU) discharge
    assert readings[0][2] == pytest.approx(3.0, abs=0.01) and readings[-1][2] < readings[0][2] - 0.03
    assert s["real_vs_sim_max_abs_V"] == pytest.approx(max(abs(r - m) for _, r, m in readings))
    assert "woke from deep sleep 1497000" in [d for _, k, d in res.timeline if k == "print"]
    assert "real_0_V" in res.result.columns


def test_the_interpreter_heap_is_limited_like_a_boards(tmp_path):
    res = run_firmware(tmp_path, """
        import machine
        machine.lightsleep(100)
        blob = bytearray(16 * 1024 * 1024)   # more than the 4 MB MicroPython heap
    """, runner="micropython", simulation={"duration": "0.25 s", "record_every": "10 ms"})
    excs = [(t, d) for t, k, d in res.timeline if k == "exception"]
    assert [t for t, _ in excs] == pytest.approx([0.101, 0.203], abs=1e-12)
    assert "MemoryError" in excs[0][1] and "fw.py" in excs[0][1]
    assert res.summary["interrupted"] is False


def test_a_serial_port_that_does_not_exist_is_a_clear_start_error(tmp_path):
    from firmware_bridge.api import FirmwareStartError

    scenario = firmware_scenario(tmp_path, "import machine\n", firmware={"runner": "serial:/dev/ttyNOPE0"})
    with pytest.raises(FirmwareStartError, match="cannot start the agent on the board at /dev/ttyNOPE0"):
        run(scenario)


def test_without_greenlet_the_cpython_runner_falls_back_to_a_thread(tmp_path, monkeypatch):
    import firmware_bridge.inprocess as inprocess

    script = """
        import machine, time
        radio = machine.Pin(5, machine.Pin.OUT)
        for i in range(5):
            radio.on()
            time.sleep_ms(10)
            radio.off()
            machine.lightsleep(500)
        machine.deepsleep(1000)
    """
    fast = run_firmware(tmp_path, script, simulation={"duration": "10 s"})
    monkeypatch.setattr(inprocess, "greenlet", None)
    slow = run_firmware(tmp_path, script, simulation={"duration": "10 s"})
    assert comparable(slow.timeline) == comparable(fast.timeline)
    assert [t for t, k, _ in fast.timeline if k == "boot"] == pytest.approx([0.0, 3.561, 7.122], abs=1e-12)


def test_polling_for_the_next_line_changes_nothing_but_the_wall_time(monkeypatch):
    """Both ends of the MicroPython channel poll for the next line before they block
    (channels.SPIN_WAIT_US). The simulated run must not depend on it: the same timeline and trace
    with polling, with blocking waits only, and with a poll too short to catch a line (every wait
    then falls through to the blocking one after polling)."""
    scenario = sysim.load(EXAMPLES / "store_and_forward.toml")
    runs = {}
    for spin_us in ("0", "1", "500"):
        monkeypatch.setenv("SYSIM_SPIN_WAIT_US", spin_us)
        runs[spin_us] = run(scenario, runner="micropython", duration=3 * 3600.0, record_every=60.0)
    reference = runs["0"]
    assert len(reference.timeline) > 300
    assert {"boot", "wake", "print"} <= {k for _, k, _ in reference.timeline}
    for spin_us in ("1", "500"):
        assert runs[spin_us].timeline == reference.timeline
        assert runs[spin_us].summary["final_voltage_V"] == reference.summary["final_voltage_V"]
        assert runs[spin_us].result.rows.tobytes() == reference.result.rows.tobytes()
        assert runs[spin_us].summary["firmware_error"] is None


def test_the_spin_wait_setting_is_checked_and_off_on_one_cpu(tmp_path, monkeypatch):
    from firmware_bridge import channels
    from firmware_bridge.api import FirmwareStartError

    monkeypatch.delenv("SYSIM_SPIN_WAIT_US", raising=False)
    monkeypatch.setattr(channels.os, "sched_getaffinity", lambda pid: {0})
    assert channels.spin_wait_us() == 0  # polling would keep the other end off its only core
    monkeypatch.setattr(channels.os, "sched_getaffinity", lambda pid: {0, 1})
    assert channels.spin_wait_us() == channels.SPIN_WAIT_US == 500
    monkeypatch.setenv("SYSIM_SPIN_WAIT_US", " 120 ")
    assert channels.spin_wait_us() == 120
    for bad in ("fast", "-5", "2e3", "5000000"):
        monkeypatch.setenv("SYSIM_SPIN_WAIT_US", bad)
        with pytest.raises(FirmwareStartError, match=rf"scenario.toml: firmware: SYSIM_SPIN_WAIT_US='{bad}': expected a whole "
                                                     r"number of microseconds from 0 \(always block\) to 1000000"):
            run_firmware(tmp_path, "import machine\n", runner="micropython")
