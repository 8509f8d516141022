"""The storage temperature over a run (sysim.engine.temperature): constants, steps, bad input."""
import math

import pytest

from sysim.engine.temperature import TemperatureSchedule


def test_no_schedule_and_a_constant():
    none = TemperatureSchedule(None)
    assert none.initial is None and none.at(5.0) is None and none.next_change(0.0) == math.inf
    constant = TemperatureSchedule(310.0)
    assert constant.initial == 310.0 and constant.at(1e9) == 310.0 and constant.next_change(0.0) == math.inf


def test_steps_take_effect_at_their_time_and_are_sorted():
    steps = TemperatureSchedule([(3600.0, 320.0), (0.0, 298.15), (7200.0, 260.0)])
    assert steps.initial == 298.15
    assert [steps.at(t) for t in (0.0, 3599.999, 3600.0, 7199.0, 7200.0, 1e7)] == \
        [298.15, 298.15, 320.0, 320.0, 260.0, 260.0]
    assert [steps.next_change(t) for t in (0.0, 3600.0, 5000.0, 7200.0)] == [3600.0, 7200.0, 7200.0, math.inf]


def test_a_schedule_must_start_at_zero():
    with pytest.raises(ValueError, match="start at t = 0"):
        TemperatureSchedule([(10.0, 300.0)])
    with pytest.raises(ValueError, match="start at t = 0"):
        TemperatureSchedule([])
