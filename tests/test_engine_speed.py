"""Issue 6 speed paths keep the numbers: a PMIC fed minute light (segments that are not whole
MPPT cycles, planned as one stretch each), dark rows that are no regime boundaries, and the
start maps prepared as a matrix for repeated cycle patterns."""
import numpy as np
import pytest

import sysim
import sysim.engine.stretch as stretch
from sysim.engine import stepper as stepper_module
from sysim.engine.fastforward import phase_start_maps
from sysim.engine.regime import TEMPLATE_AFTER_SIGHTINGS, LengthCache

from conftest import balance_ok, run

BLE = {"type": "periodic", "name": "ble", "period": "1 s", "base_current": "2 uA",
       "phases": [{"current": "3 mA", "duration": "0.3 ms"}, {"current": "5.3 mA", "duration": "1.2 ms"},
                  {"current": "3 mA", "duration": "0.5 ms"}]}


def minute_light(tmp_path, minutes: int = 240, dark_from: int = 180, mean: float = 600.0) -> str:
    """Irradiance every minute (W/m²): a flickering stretch around ``mean``, then darkness."""
    rng = np.random.default_rng(6)
    level = np.clip(mean * (1.0 + 0.2 * rng.standard_normal(minutes)), 0.1 * mean, None)
    level[dark_from:] = 0.0
    path = tmp_path / "light-1min.csv"
    path.write_text("time_min,irradiance_W_m2\n" + "\n".join(f"{k},{v:.3f}" for k, v in enumerate(level)) + "\n")
    return str(path)


def node(trace: str, method: str = "auto", duration: str = "4 h") -> dict:
    return {
        "name": "PMIC on minute light",
        "simulation": {"duration": duration, "record_every": "7 min", "method": method},
        "storage": {"model": "supercap", "capacitance": "0.047 F", "esr": "0.5 ohm", "leakage_resistance": "500 kohm",
                    "branches": [{"capacitance": "0.02 F", "resistance": "50 ohm"}],
                    "initial_voltage": "2.6 V", "v_min": "2.0 V", "v_max": "4.2 V"},
        "pmic": {"preset": "bq25570", "v_ov": "4.1 V"},
        "harvester": [{"type": "pv", "name": "pv", "preset": "indoor-csi", "area": "20 cm^2",
                       "light": {"trace": trace, "source": "sun"}}],
        "load": [BLE],
    }


def test_minute_light_fast_forward_equals_event_stepping(tmp_path):
    trace = minute_light(tmp_path)
    event, ff = run(node(trace, "event")), run(node(trace, "fast-forward"))
    np.testing.assert_array_equal(event.column("time_s"), ff.column("time_s"))
    assert np.max(np.abs(event.column("voltage_V") - ff.column("voltage_V"))) <= 1e-6
    for key in ("energy_harvested_J", "energy_to_loads_J", "energy_lost_J"):
        assert ff.summary[key] == pytest.approx(event.summary[key], rel=1e-7), key
    assert ff.summary["events_stepped"] < ff.summary["events"] / 3  # the rest were jumped
    balance_ok(event)
    balance_ok(ff)
    # the store charged through the over-voltage threshold and held there: the hold path ran
    assert ff.summary["max_voltage_V"] > 4.0


def test_a_minute_segment_is_one_stretch(tmp_path, monkeypatch):
    """60 s of a 16 s MPPT cycle used to be planned as cycles + a run of phases + one cut phase."""
    trace = minute_light(tmp_path, minutes=60, dark_from=60, mean=2.0)
    calls = []
    original = stepper_module.Stepper.advance

    def counting(self, regime, t_stop, watches, fast_forward=False):
        calls.append((self.t, t_stop))
        return original(self, regime, t_stop, watches, fast_forward)

    monkeypatch.setattr(stepper_module.Stepper, "advance", counting)
    data = node(trace, duration="1 h")
    data["storage"]["initial_voltage"] = "3.5 V"  # far from every threshold
    data["storage"]["capacitance"] = "0.47 F"      # moves well under 3 % a minute
    result = run(data)
    assert result.summary["threshold_crossings"] == 0
    # one stretch per light segment (the first minute starts at t = 0)
    assert len(calls) == 60
    assert all(stop == pytest.approx(60.0 * (k + 1)) for k, (_, stop) in enumerate(calls))


def test_mid_cycle_stretches_match_a_tight_freeze(tmp_path, monkeypatch):
    """The frozen power draws over a stretch that ends inside a cycle are as good as before:
    against a run whose stretches move the voltage 100x less, within a few microvolts."""
    trace = minute_light(tmp_path, minutes=30, dark_from=30, mean=10.0)
    data = node(trace, duration="30 min")
    data["storage"]["capacitance"] = "0.47 F"  # charging all along (a hold has its own tolerance)
    loose = run(data)
    assert 3.0 < loose.summary["max_voltage_V"] < 4.0  # charging, no threshold on the way
    monkeypatch.setattr(stretch, "POWER_TOLERANCE_REL", 3e-4)
    tight = run(data)
    assert tight.summary["events"] >= loose.summary["events"]
    assert np.max(np.abs(loose.column("voltage_V") - tight.column("voltage_V"))) <= 5e-6
    assert loose.summary["energy_harvested_J"] == pytest.approx(tight.summary["energy_harvested_J"], rel=1e-5)
    balance_ok(loose)


def test_dark_rows_after_dark_rows_are_no_boundaries(tmp_path):
    from harvesters.inputs import InputSegments
    from sysim.api import prepare

    sim = prepare(sysim.from_dict(node(minute_light(tmp_path))))
    pmic = next(c for c in sim.components if c.kind == "source")
    # weather data: night rows differ in open-circuit voltage but deliver no power
    p_in = np.array([0.0, 0.0, 0.0, 1e-3, 2e-3, 0.0, 0.0, 1e-3, 0.0])
    v_oc = np.array([0.1, 0.2, 0.0, 0.5, 0.5, 0.3, 0.0, 0.5, 0.0])
    pmic.inputs = InputSegments(np.arange(len(p_in)) * 3600.0, v_oc, 0.8 * v_oc, p_in, p_in)
    pmic._times = [float(t) for t in pmic.inputs.times_s]
    assert pmic._changes() == [3, 4, 5, 7, 8]


def test_start_map_template_equals_the_scan():
    rng = np.random.default_rng(2)
    count, n = 66, 3
    p = rng.uniform(0.2, 1.0, (count, n))
    phi = rng.uniform(0.0, 3.0, (count, n))
    w = rng.normal(size=(count, n))

    class System:
        rates = (-1.0, -2.0, -3.0)

    cache, h_ns = LengthCache(), np.arange(1, count + 1, dtype=np.int64)
    for _ in range(TEMPLATE_AFTER_SIGHTINGS):  # the first sightings: not worth it yet
        assert cache.maps_template(System, h_ns, p, phi) is None
    big_a, q = cache.maps_template(System, h_ns, p, phi)
    a, b = phase_start_maps(p, w * phi)
    np.testing.assert_allclose(big_a, a, rtol=1e-14, atol=0)
    np.testing.assert_allclose(np.matmul(q, w.T[:, :, None])[:, :, 0].T, b, rtol=1e-12, atol=1e-14)


def test_start_map_templates_stay_within_their_byte_budget_and_keep_the_recently_used(monkeypatch):
    import sysim.engine.regime as regime

    count, n = 100, 2
    one = (count + 1) * n * 8 + n * (count + 1) * count * 8  # A and Q of one pattern (bytes)
    monkeypatch.setattr(regime, "TEMPLATES_BUDGET_BYTES", 3 * one + one // 2)  # room for three
    rng = np.random.default_rng(3)
    p, phi = rng.uniform(0.2, 1.0, (count, n)), rng.uniform(0.0, 3.0, (count, n))

    class System:
        rates = (-1.0, -2.0)

    cache = LengthCache()
    patterns = [np.full(count, k + 1, dtype=np.int64) for k in range(5)]

    def template(k):
        for _ in range(TEMPLATE_AFTER_SIGHTINGS + 1):
            got = cache.maps_template(System, patterns[k], p, phi)
            if got is not None:
                return got

    first = [template(k) for k in range(3)]
    assert cache.nbytes == 3 * one
    assert cache.maps_template(System, patterns[0], p, phi) is first[0]  # pattern 0 used again
    template(3)  # over the budget: the least recently used (pattern 1) goes
    assert cache.nbytes == 3 * one
    assert cache.maps_template(System, patterns[0], p, phi) is first[0]
    assert cache.maps_template(System, patterns[2], p, phi) is first[2]
    assert cache.maps_template(System, patterns[1], p, phi) is not first[1]  # built again
    assert cache.nbytes == 3 * one  # ... and pattern 3, now the least recently used, went
