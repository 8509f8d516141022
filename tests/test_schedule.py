"""Merging duty cycles into the phase table of a regime."""
import math

import pytest

from sysim.engine.draws import load_draw
from sysim.engine.schedule import (ConstantSchedule, PeriodicSchedule, PhaseMerger, PiecewiseSchedule,
                                   build_phases)


def _periodic(name, period, on, current):
    return PeriodicSchedule.from_durations([(on, (load_draw(name, current),))], period, (load_draw(name, 1e-6),))


def _avg_current(table):
    total = sum(h for h, _ in table.phases)
    return sum(h * sum(d.current_A for d in draws) for h, draws in table.phases) / total


def test_two_duty_cycles_merge_into_their_common_period():
    a, b = _periodic("ble", 1.0, 0.004, 5e-3), _periodic("sensor", 60.0, 0.01, 0.7e-3)
    table = build_phases(0.0, [a, b], PhaseMerger())
    assert table.cycle_s == pytest.approx(60.0)
    assert sum(h for h, _ in table.phases) == pytest.approx(60.0, rel=1e-15)
    expected = (5e-3 * 0.004 + 1e-6 * 0.996) + (0.7e-3 * 0.01 + 1e-6 * 59.99) / 60
    assert _avg_current(table) == pytest.approx(expected, rel=1e-12)


def test_a_regime_starting_mid_cycle_is_rotated():
    a = _periodic("ble", 1.0, 0.004, 5e-3)
    table = build_phases(3.002, [a], PhaseMerger())
    first_h, first_draws = table.phases[0]
    assert first_h == pytest.approx(0.002)  # the rest of the pulse
    assert first_draws[0].current_A == 5e-3
    assert sum(h for h, _ in table.phases) == pytest.approx(1.0)
    assert table.phases[-1][0] == pytest.approx(0.002)  # and the cycle closes with its first part


def test_piecewise_schedules_end_the_regime_and_constants_join_every_phase():
    steps = PiecewiseSchedule((0.0, 3600.0), ((load_draw("h", -1e-5),), (load_draw("h", -2e-5),)))
    table = build_phases(100.0, [steps, ConstantSchedule((load_draw("q", 5e-7),))], PhaseMerger())
    assert table.end_s == 3600.0 and table.cycle_s is None
    assert math.isinf(table.phases[0][0])
    assert sorted(d.owner for d in table.phases[0][1]) == ["h", "q"]
