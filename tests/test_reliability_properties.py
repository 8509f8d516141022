"""Properties of randomly built valid nodes (hypothesis; issue 10).

For every generated node (tests/reliability_nodes.py: supercaps with branches and leakage,
batteries with OCV tables, identical and mismatched packs, current / PV / trace harvesters, an
optional PMIC, constant / periodic / BLE / LED loads):

* the energy ledger balances to 1e-9 of the throughput (``energy_balance_relative``);
* the voltages stay inside physical bounds (reliability_nodes.upper_bound / lower_bound; the
  recorded samples lie inside the exact extremes of the summary);
* fast-forward equals event stepping: every sample within 1e-6 V, the same brown-out count, the
  first brown-out within one load period;

Settings: a fixed seed (``derandomize=True``), no example database, no deadline, and a bounded
number of examples (``SYSIM_PROPERTY_EXAMPLES`` scales them: 1 = the CI count, 10 = ten times as
many, for a longer local run).
"""
from __future__ import annotations

import copy
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import sysim
from reliability_nodes import HOLD_BAND_V, lower_bound, node, refine_with_node, upper_bound, write_files
from sysim.engine.freeze import POWER_TOLERANCE_REL
from sysim.node import build_node
from sysim.scenario.loader import from_dict

SCALE = float(os.environ.get("SYSIM_PROPERTY_EXAMPLES", "1"))


def _settings(examples: int):
    return settings(max_examples=max(1, int(examples * SCALE)), derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture], print_blob=True)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("property-nodes")


def _scenario(data, files, folder):
    write_files(folder, files)
    return from_dict(copy.deepcopy(data), source="<property node>", base_dir=str(folder))


def _run(scenario, method):
    return sysim.simulate(scenario.with_changes({"simulation.method": method}))


def _open_circuit(model) -> float:
    system = model.modal()
    z = model.initial_state()
    out = system.outputs[0]
    return math.fsum(c * v for c, v in zip(out.c, z)) + out.f


def _floor(data) -> float:
    """The store's own floor (V, pack): 0 for a capacitor, the OCV at empty for a battery."""
    s = data["storage"]
    if s["model"] == "supercap":
        return 0.0
    return s.get("series", 1) * s["ocv"][0][1]


def check_bounds(result, facts, v_oc0, floor):
    s = result.summary
    v = result.column("voltage_V")
    assert np.all(np.isfinite(v))
    for key in ("final_voltage_V", "min_voltage_V", "max_voltage_V"):
        assert math.isfinite(s[key]), key
    # the summary's extremes are those of the stepped trajectory, where a constant-power draw is
    # frozen over stretches (midpoint current, second order); a sample follows the exact curve:
    # they agree to far below the 1e-6 V that fast-forward and event stepping must agree to
    # A constant-power draw is held at its stretch's midpoint current (freeze.py), so at a stretch's
    # start the stepped terminal voltage differs from the exact one by R·ΔI, ΔI up to the 3 %
    # tolerance of the load current: the extremes may miss a sample by that much.
    r_pack = facts.r_cell_max * facts.series / facts.parallel
    tol = 1e-6 + r_pack * facts.load_current_A * POWER_TOLERANCE_REL
    assert s["min_voltage_V"] - tol <= v.min() and v.max() <= s["max_voltage_V"] + tol
    assert s["min_voltage_V"] - tol <= s["final_voltage_V"] <= s["max_voltage_V"] + tol
    high = upper_bound(facts, v_oc0)
    low = lower_bound(facts, v_oc0, floor)
    assert s["max_voltage_V"] <= high + 1e-6, ("upper bound", s["max_voltage_V"], high)
    assert s["min_voltage_V"] >= low - 1e-6, ("lower bound", s["min_voltage_V"], low)
    if facts.v_max is not None and facts.series * facts.parallel > 1 and "cell1_V" in result.columns:
        # per cell: over-voltage protection holds every cell, not only the pack's total
        r_cell = facts.r_cell_max
        i_in = facts.source_current_A + facts.source_power_W / max(facts.v_min, 0.5)
        for k in range(1, facts.series * facts.parallel + 1):
            cell = result.column(f"cell{k}_V")
            limit = max(cell[0], facts.v_max + HOLD_BAND_V) + r_cell * i_in
            assert cell.max() <= limit + 1e-6, (f"cell{k}", cell.max(), limit)
    # the stored energy is never negative, the state of charge stays in [0, 1]
    assert np.all(result.column("stored_energy_J") >= -1e-12)
    if facts.kind == "battery":
        # never below empty; above full only when a source can overcharge it (an ideal source with
        # no v_max, or charging up to a v_max above the OCV at full)
        soc = result.column("soc")
        assert np.all(soc >= -1e-9)
        if facts.source_current_A == 0 and facts.source_power_W == 0:
            assert np.all(soc <= soc[0] + 1e-9)


@_settings(20)
@given(node())
def test_random_nodes_balance_stay_in_bounds_and_fast_forward_equals_events(folder, generated):
    data, facts = generated
    scenario = _scenario(data, facts.files, folder)
    built = build_node(scenario)
    refine_with_node(facts, built)
    v_oc0 = _open_circuit(built.storage)
    event, ff = _run(scenario, "event"), _run(scenario, "fast-forward")
    for result in (event, ff):
        s = result.summary
        # 1e-9 of the throughput; when the throughput is a millionth of the stored energy (1 µW for
        # 100 s from a battery holding 12 J) the balance cannot beat the rounding of the stored
        # energy itself, a few dozen ulps of it: 1e-13 of the stored energy is allowed for that
        error_J = abs(s["energy_balance_error_J"])
        throughput_J = abs(s["energy_balance_error_J"] / s["energy_balance_relative"]) if s["energy_balance_relative"] else 0.0
        stored_J = max(abs(s["energy_stored_start_J"]), abs(s["energy_stored_end_J"]))
        assert error_J <= 1e-9 * throughput_J + 1e-13 * stored_J, (s["energy_balance_relative"], stored_J)
        check_bounds(result, facts, v_oc0, _floor(data))
    # fast-forward equals event stepping
    assert event.columns == ff.columns and len(event.rows) == len(ff.rows)
    np.testing.assert_array_equal(event.column("time_s"), ff.column("time_s"))
    assert np.max(np.abs(event.column("voltage_V") - ff.column("voltage_V"))) <= 1e-6
    se, sf = event.summary, ff.summary
    assert se["brownouts"] == sf["brownouts"]
    if se["first_brownout_s"] is not None:
        assert abs(se["first_brownout_s"] - sf["first_brownout_s"]) <= max(facts.load_period_s, 1e-6)
