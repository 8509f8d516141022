"""Measured current traces from a power-profiler CSV: units from the header, exact charge, errors
that name the file and the line."""
import subprocess
import sys

import numpy as np
import pytest

import sysim
from conftest import balance_ok
from loads.trace import read_current_trace
from sysim.errors import InputFileError


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _ppk2(path, n=2000, dt_ms=0.01, seed=3):
    """A PPK2-style export: Timestamp(ms),Current(uA),D0-D7 with a 5 ms burst in it."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * dt_ms
    i = np.where((t >= 5.0) & (t < 10.0), 4000.0, 3.0) + rng.uniform(0, 1, n)
    lines = ["Timestamp(ms),Current(uA),D0-D7"] + [f"{a:.2f},{b:.4f},00000000" for a, b in zip(t, i)]
    _write(path, "\n".join(lines) + "\n")
    return t * 1e-3, i * 1e-6


def _scenario(file, **load):
    return {"simulation": {"duration": "60 s", "record_every": "1 s"},
            "storage": {"model": "supercap", "capacitance": "1 F", "initial_voltage": "3 V"},
            "load": [{"type": "trace", "name": "cap", "file": str(file), **load}]}


def test_a_ppk2_capture_repeats_with_its_exact_charge(tmp_path):
    t, i = _ppk2(tmp_path / "ppk.csv")
    trace = read_current_trace(tmp_path / "ppk.csv")
    dt = 1e-5
    assert trace.span_s == pytest.approx(len(t) * dt)
    charge = float(np.sum(i) * dt)  # each sample holds for one interval (the last for the median)
    assert trace.charge_C() == pytest.approx(charge, rel=1e-12)
    # repeated every 1 s with 2 µA in between, for 60 s
    result = sysim.simulate(sysim.from_dict(_scenario(tmp_path / "ppk.csv", period="1 s", idle_current="2 uA")))
    drawn = 1.0 * (3.0 - result.summary["final_voltage_V"])
    assert drawn == pytest.approx(60 * (charge + 2e-6 * (1.0 - trace.span_s)), rel=1e-9)
    balance_ok(result)


def test_resampling_keeps_the_charge(tmp_path):
    _ppk2(tmp_path / "ppk.csv")
    trace = read_current_trace(tmp_path / "ppk.csv")
    coarse = trace.resampled(1e-3)
    assert len(coarse.currents_A) == 20
    assert coarse.charge_C() == pytest.approx(trace.charge_C(), rel=1e-12)
    assert coarse.currents_A[7] == pytest.approx(4000.5e-6, rel=1e-3)  # inside the burst


def test_a_one_time_trace_plays_once_then_idles(tmp_path):
    _write(tmp_path / "t.csv", "time_s,current_A\n0,0.001\n1,0.002\n2,0\n")
    data = _scenario(tmp_path / "t.csv", repeat=False, offset="5 s", idle_current="1 uA")
    data["simulation"] = {"duration": "20 s", "record_every": "0.5 s"}
    result = sysim.simulate(sysim.from_dict(data))
    t, i = result.column("time_s"), result.column("cap_A")
    assert np.all(i[t < 5] == 0) and i[np.isclose(t, 5.5)][0] == 1e-3 and i[np.isclose(t, 6.5)][0] == 2e-3
    assert np.all(i[(t > 7) & (t < 8)] == 0) and np.all(i[t > 8] == 1e-6)  # the last sample held 1 s
    drawn = 1.0 * (3.0 - result.summary["final_voltage_V"])
    assert drawn == pytest.approx(1e-3 + 2e-3 + 12 * 1e-6, rel=1e-12)


@pytest.mark.parametrize("text,line,reason", [
    ("Timestamp(ms),Current(uA)\n0,1\n0.01,abc\n", "line 3", "not a number: 'abc'"),
    ("Timestamp(ms),Current(uA)\n0,1\n0.02,2\n0.01,3\n", "line 4", "time does not increase"),
    ("Timestamp(ms),Current(uA)\n0,1\n0.01,-0.5\n", "line 3", "negative current -0.5"),
    ("Timestamp(xs),Current(uA)\n0,1\n0.01,2\n", "line 1", "unknown time unit 'xs'"),
    ("Timestamp(ms),Current(uA)\n0,1\n0.01\n", "line 3", "expected at least 2 columns"),
    ("Timestamp(ms),Current(uA)\n0,1\n", None, "needs at least two samples"),
    ("# only a comment\n\n", None, "no samples"),
    ("t,i\n0,1\n1e-10,2\n", "line 3", "closer than 1 ns"),
])
def test_bad_trace_files_name_the_line(tmp_path, text, line, reason):
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(InputFileError) as err:
        read_current_trace(path)
    assert err.value.file == str(path) and err.value.key == line and reason in err.value.reason


def test_negative_samples_can_be_clipped_and_units_overridden(tmp_path):
    path = _write(tmp_path / "n.csv", "0,5\n10,-1\n20,5\n")  # no header: columns 0 and 1
    trace = read_current_trace(path, time_unit="ms", current_unit="mA", clip_negative=True)
    assert list(trace.currents_A) == [5e-3, 0.0, 5e-3] and trace.span_s == pytest.approx(0.03)
    otii = _write(tmp_path / "otii.csv", "Time (s),Main current (A),Main voltage (V)\n0,0.001,3.0\n0.5,0.002,3.0\n")
    assert list(read_current_trace(otii).currents_A) == [1e-3, 2e-3]
    with pytest.raises(InputFileError) as err:  # a voltage column is not a current
        read_current_trace(otii, current_column="Main voltage")
    assert "unknown current unit 'V'" in str(err.value)
    assert list(read_current_trace(otii, current_column=1).currents_A) == [1e-3, 2e-3]


def test_a_bad_trace_stops_the_cli_with_exit_code_2(tmp_path):
    _write(tmp_path / "bad.csv", "Timestamp(ms),Current(uA)\n0,1\n0.01,oops\n")
    scenario = tmp_path / "s.toml"
    _write(scenario, '[simulation]\nduration = "1 s"\n[storage]\nmodel = "supercap"\ncapacitance = "1 F"\n'
                     'initial_voltage = "3 V"\n[[load]]\ntype = "trace"\nfile = "bad.csv"\n')
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", str(scenario), "--out", str(tmp_path / "o"), "--quiet"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "bad.csv: line 3: not a number: 'oops'" in proc.stderr.replace("\n", "")
    assert "Traceback" not in proc.stderr
    missing = tmp_path / "m.toml"
    _write(missing, scenario.read_text().replace("bad.csv", "nope.csv"))
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", str(missing), "--quiet"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "load[0].file" in proc.stderr and "file not found" in proc.stderr
