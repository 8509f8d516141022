"""Storage models against closed forms (models-and-numerics.md §1.5, §1.6, §2.3, §2.5), charge
redistribution, capacity fade, temperature and the ambient trace; the ledger closes on every run."""
import math

import numpy as np
import pytest

import sysim
from conftest import balance_ok, run, scenario
from device_models.supercap import CV_TOLERANCE_V, TAFEL_TOLERANCE_REL
from device_models.temperature import R_GAS, arrhenius_factor
from sysim.errors import InputFileError, ScenarioError
from storage_helpers import balance_error, open_circuit, step_resistance, storage_model, throughput_cycles


def test_voltage_dependent_capacitance_follows_the_closed_form_within_its_tolerance():
    # C(v) = C0 + k·v charged at constant current: Q = C0·v + k·v²/2 = Q0 + I·t (§1.6)
    c0, k, i = 0.01, 0.004, 1e-3
    res = run(scenario(storage={"capacitance": c0, "capacitance_per_volt": k, "initial_voltage": "0.2 V",
                                "v_max": "3.5 V"},
                       harvester=[{"type": "current", "current": i}],
                       simulation={"duration": "40 s", "record_every": "0.5 s"}))
    t, v = res.column("time_s"), res.column("voltage_V")
    q0 = c0 * 0.2 + 0.5 * k * 0.2 ** 2
    exact = (-c0 + np.sqrt(c0 ** 2 + 2 * k * (q0 + i * t))) / k
    assert np.max(np.abs(v - exact)) <= CV_TOLERANCE_V
    assert np.max(np.abs(v - exact)) > 1e-7  # the piecewise law is really in use
    # the stored energy is ∫v dQ of the law: C0·v²/2 + k·v³/3, to the same tolerance
    e_end = c0 * v[-1] ** 2 / 2 + k * v[-1] ** 3 / 3
    assert res.column("stored_energy_J")[-1] == pytest.approx(e_end, rel=CV_TOLERANCE_V)
    assert res.summary["threshold_crossings"] > 20  # knots are events
    balance_ok(res)


def test_tafel_leakage_follows_the_log_time_law():
    # C·dV/dt = -I0·e^((V-Vr)/b)  →  V = Vr - b·ln(e^(-(V0-Vr)/b) + I0·t/(C·b))   (§1.5)
    c, i0, vr, slope, v0 = 0.01, 1e-6, 3.0, 0.12, 3.3
    res = run(scenario(storage={"capacitance": c, "initial_voltage": v0, "v_max": "3.5 V",
                                "tafel": {"current": i0, "voltage": vr, "slope": slope}},
                       simulation={"duration": "20 d", "record_every": "2 h"}))
    b = slope / math.log(10)
    t, v = res.column("time_s"), res.column("voltage_V")
    exact = vr - b * np.log(np.exp(-(v0 - vr) / b) + i0 * t / (c * b))
    # a relative current error ε shifts the log-time law by at most b·ln(1+ε)
    assert np.max(np.abs(v - exact)) <= b * math.log1p(TAFEL_TOLERANCE_REL)
    assert v[0] - v[-1] > 0.3  # a real decay: about 60 mV per decade of time
    balance_ok(res)


def test_tafel_current_grows_with_temperature():
    # leakage_activation_energy scales the exchange current; the slope grows with T (2.3RT/αF)
    storage = {"model": "supercap", "capacitance": "10 mF", "v_max": "3.5 V", "initial_voltage": "3.3 V",
               "tafel": {"current": "1 uA", "voltage": "3.0 V", "slope": "120 mV"},
               "leakage_activation_energy": "50 kJ/mol"}
    cold, _ = open_circuit(storage, 86400.0, temperature=273.15)
    warm, raw = open_circuit(storage, 86400.0, temperature=318.15)
    assert warm < cold - 0.05
    assert balance_error(raw) < 1e-9


def test_redistribution_sags_after_a_charge_and_rebounds_after_a_discharge():
    # NTO//AG NIMC (C(v) plus a slow branch): after a 60 s charge the terminal sags with no current
    # far faster than its leakage explains; after a 60 s discharge it rebounds
    base = {"simulation": {"duration": "30 min", "record_every": "30 s"}}
    charged = sysim.simulate(sysim.from_dict({
        **base, "storage": {"preset": "nto-ag-nimc", "initial_voltage": "2.0 V"},
        "harvester": [{"type": "current", "current": "0.3 mA", "steps": [{"at": "60 s", "current": "0 A"}]}]}))
    t, v = charged.column("time_s"), charged.column("voltage_V")
    after = v[t >= 90]
    assert np.all(np.diff(after) < 0)  # sags
    leak_only = after[0] * (1 - math.exp(-(t[-1] - 90) / (9.6553e6 * 0.02)))
    assert after[0] - after[-1] > 10 * leak_only
    balance_ok(charged)
    discharged = sysim.simulate(sysim.from_dict({
        **base, "storage": {"preset": "nto-ag-nimc", "initial_voltage": "3.0 V"},
        "load": [{"type": "periodic", "period": "1 h", "phases": [{"current": "0.3 mA", "duration": "60 s"}]}]}))
    t, v = discharged.column("time_s"), discharged.column("voltage_V")
    after = v[t >= 90]
    rebound = after[t[t >= 90] < 600]
    assert np.all(np.diff(rebound) > 0) and rebound[-1] - rebound[0] > 0.05  # rebounds, then leaks
    balance_ok(discharged)


LFP = {"model": "battery", "capacity": "1 mAh", "chemistry": "lfp", "r0": "10 ohm", "capacitance": None,
       "initial_voltage": None}


def test_hysteresis_relaxes_to_minus_m_on_discharge_and_plus_m_on_charge():
    # dh/dt = -(γ/Q)·|I|·(h + sign(I)·M): h(t) = -M + (h0 + M)·e^(-γ|I|t/Q)   (§2.3)
    m, gamma, i, cap = 0.02, 30.0, 1e-3, 3.6
    res = run(scenario(storage={**LFP, "hysteresis": {"voltage": m, "rate": gamma}, "initial_soc": 0.6},
                       load=[{"type": "constant", "current": i}],
                       simulation={"duration": "10 min", "record_every": "10 s"}))
    t, h = res.column("time_s"), res.column("hysteresis_V")
    np.testing.assert_allclose(h, -m * (1 - np.exp(-gamma * i * t / cap)), rtol=1e-9, atol=1e-15)
    # the hysteresis voltage's work h·I is lost, not stored
    balance_ok(res)
    charged = run(scenario(storage={**LFP, "hysteresis": {"voltage": m, "rate": gamma}, "initial_soc": 0.4},
                           harvester=[{"type": "current", "current": i}],
                           simulation={"duration": "30 min", "record_every": "10 s"}))
    assert charged.column("hysteresis_V")[-1] == pytest.approx(m, rel=1e-6)
    # at the same SOC the charge curve sits 2·M above the discharge curve (plus the R0 drops)
    balance_ok(charged)


def test_capacity_fade_per_equivalent_full_cycle_is_exact_and_its_energy_is_booked():
    f = 0.002
    storage = {**LFP, "fade_per_cycle": f, "initial_soc": 0.55, "ocv": [[0, 3.0], [1, 3.6]], "chemistry": None}
    cycles = 40.0
    left, raw = throughput_cycles({k: v for k, v in storage.items() if v is not None}, cycles, 0.5, 0.2)
    assert left == pytest.approx((1 - f) ** cycles, rel=1e-9)
    assert raw.ledger["lost/storage_ageing"] > 0
    assert balance_error(raw) < 1e-9
    # the capacity used by the OCV lags the counter by at most one fade step, and the fade keeps
    # the state of charge: no voltage step
    v = raw.rows[:, 1]
    assert np.max(np.abs(np.diff(v))) < 0.3


def test_initial_cycles_start_with_a_faded_capacity():
    model, _ = storage_model({**{k: v for k, v in LFP.items() if v is not None}, "fade_per_cycle": "0.01 %",
                              "initial_cycles": 2000})
    assert model.capacity == pytest.approx(3.6 * 0.9999 ** 2000, rel=1e-12)


def test_battery_resistance_follows_arrhenius_with_the_activation_energy():
    ea = 58e3
    storage = {"preset": "lco-lipon-thin-film"}
    for celsius in (-20.0, 0.0, 45.0):
        kelvin = 273.15 + celsius
        ratio = step_resistance(storage, 1e-6, kelvin) / step_resistance(storage, 1e-6, 298.15)
        assert ratio == pytest.approx(math.exp(ea / R_GAS * (1 / kelvin - 1 / 298.15)), rel=1e-6)
    assert arrhenius_factor(ea, 273.15) == pytest.approx(8.5, rel=0.01)  # the §2.5 figure


def test_leakage_follows_its_own_activation_energy():
    # an ohmic leak τ = R·C: at 45 °C the leak conductance grows by the inverse Arrhenius factor
    storage = {"model": "supercap", "capacitance": "10 mF", "leakage_resistance": "1 Mohm",
               "leakage_activation_energy": "40 kJ/mol", "activation_energy": "20 kJ/mol", "initial_voltage": "3 V"}
    v_hot, raw = open_circuit(storage, 5000.0, temperature=318.15)
    tau = 1e6 * 0.01 * arrhenius_factor(40e3, 318.15)
    assert v_hot == pytest.approx(3.0 * math.exp(-5000.0 / tau), rel=1e-9)
    assert balance_error(raw) < 1e-9


def test_ambient_trace_switches_the_resistance_at_the_row_times(tmp_path):
    (tmp_path / "ambient.csv").write_text("# a cold hour\ntime_min,temperature_C\n0,25\n60,0\n120,25\n")
    data = {"simulation": {"duration": "3 h", "record_every": "5 min"},
            "ambient": {"temperature_trace": "ambient.csv"},
            "storage": {"model": "supercap", "capacitance": "100 F", "esr": "10 ohm", "activation_energy": "58 kJ/mol",
                        "initial_voltage": "3 V"},
            "load": [{"type": "constant", "current": "1 mA"}]}
    res = sysim.simulate(sysim.from_dict(data, base_dir=str(tmp_path)))
    t, v = res.column("time_s"), res.column("voltage_V")
    node = 3.0 - 1e-3 * t / 100.0
    drop = node - v
    factor = arrhenius_factor(58e3, 273.15)
    assert drop[(t > 0) & (t < 3600)] == pytest.approx(0.01, rel=1e-9)
    assert drop[(t >= 3600) & (t < 7200)] == pytest.approx(0.01 * factor, rel=1e-9)
    assert drop[t >= 7200] == pytest.approx(0.01, rel=1e-9)
    balance_ok(res)


@pytest.mark.parametrize("text,line,reason", [
    ("time_h,temperature_C\n0,25\n1,abc\n", "line 3", "not a number"),
    ("time_h,temperature_C\n0,25\n1,20\n1,21\n", "line 4", "times must increase"),
    ("time_h,temperature_C\n5,25\n", "line 2", "first row must be at time 0"),
    ("time,temp\n0,25\n", "line 1", "header"),
    ("time_s,temperature_K\n0,20\n", "line 2", "outside"),
    ("time_s,temperature_C\n0,20,1\n", "line 2", "expected 2 values"),
])
def test_ambient_trace_errors_name_the_file_and_line(tmp_path, text, line, reason):
    (tmp_path / "bad.csv").write_text(text)
    data = {"simulation": {"duration": "1 h"}, "ambient": {"temperature_trace": "bad.csv"},
            "storage": {"model": "supercap", "capacitance": "1 F"}}
    with pytest.raises(InputFileError) as info:
        sysim.from_dict(data, base_dir=str(tmp_path))
    assert info.value.key == line and reason in info.value.reason
    assert str(tmp_path / "bad.csv") in str(info.value)


def test_constant_and_trace_ambient_together_are_an_error(tmp_path):
    (tmp_path / "a.csv").write_text("time_s,temperature_C\n0,25\n")
    data = {"simulation": {"duration": "1 h", "ambient_temperature": "10 degC"},
            "ambient": {"temperature_trace": "a.csv"}, "storage": {"model": "supercap", "capacitance": "1 F"}}
    with pytest.raises(ScenarioError, match="not both"):
        sysim.from_dict(data, base_dir=str(tmp_path))


@pytest.mark.parametrize("storage,key,reason", [
    ({"model": "supercap", "capacitance": "1 F", "area": "2 cm^2"}, "storage", "not per area"),
    ({"model": "supercap", "capacitance": "1 F", "mismatch": {"capacitance": "5 %"}}, "storage", "need a pack"),
    ({"model": "supercap", "capacitance": "1 F", "capacitance_per_volt": "1 mF/V"}, "storage", "need v_max"),
    ({"model": "supercap", "capacitance": "1 F", "series": 2, "mismatch": {"capacity": "5 %"}}, "storage",
     "applies to batteries"),
    ({"model": "supercap", "capacitance": "1 F", "series": 2, "mismatch": {"capacitance": "50 %"}},
     "storage.mismatch.capacitance", "at most 0.3"),
    ({"model": "battery", "capacity": "1 mAh", "chemistry": "lfpp"}, "storage.chemistry", "did you mean"),
    ({"model": "battery", "capacity": "1 mAh"}, "storage", "ocv"),
    ({"model": "battery", "capacity": "1 mAh", "chemistry": "lfp", "hysteresis": {"voltage": "10 mV"}},
     "storage.hysteresis.rate", "missing"),
    ({"model": "supercap", "capacitance": "1 F", "tafel": {"current": "1 uA", "voltage": "3 V", "slope": "0.1 ohm"}},
     "storage.tafel.slope", "not a voltage"),
])
def test_bad_storage_keys_name_the_key_and_the_reason(storage, key, reason):
    with pytest.raises(ScenarioError) as info:
        sysim.from_dict({"simulation": {"duration": "1 h"}, "storage": storage})
    assert info.value.key == key, info.value
    assert reason in info.value.reason
