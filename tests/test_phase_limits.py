"""The per-phase limits a stretch's voltage bounds must stay within (sysim.engine.walk.phase_limits):
the tightest watched level on each side, less the output's offset, and for a watch that sees the
ESR drop, less the drop of each phase's own current. The levels of a watch list are remembered
for the next call with the same list (a charging ramp's stretches), never for another list."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from sysim.engine.walk import Watch, phase_limits, watched_outputs


def _system():
    """Two outputs: the terminal (offset 0.1 V, ESR drop 2 Ω·I) and a half-voltage tap (no drop)."""
    terminal = SimpleNamespace(c=(1.0, 1.0), d=-2.0, f=0.1)
    tap = SimpleNamespace(c=(0.5, 0.5), d=0.0, f=0.0)
    return SimpleNamespace(outputs=[terminal, tap])


def test_limits_take_the_tightest_level_per_side_and_the_drop_of_each_phase():
    system = _system()
    watches = [Watch(0, 2.0, "falling", ("a",), True), Watch(0, 2.2, "falling", ("b",), False),
               Watch(0, 4.1, "rising", ("c",), False), Watch(0, 4.0, "rising", ("d",), True),
               Watch(1, 1.5, "falling", ("e",), False)]
    current = np.array([0.01, -0.05])  # A, + = discharge
    outputs = watched_outputs(watches)
    assert outputs == [0, 1]
    (lo0, lo1), (hi0, hi1) = phase_limits(system, outputs, watches, current)
    # terminal: c·z must stay above max(2.2 − 0.1, 2.0 − (0.1 − 2·I)) and below min(4.1 − 0.1, 4.0 − (0.1 − 2·I))
    assert np.allclose(lo0, [max(2.1, 2.0 - 0.08), max(2.1, 2.0 - 0.2)])
    assert np.allclose(hi0, [min(4.0, 4.0 - 0.08), min(4.0, 4.0 - 0.2)])
    assert np.allclose(lo1, [1.5, 1.5]) and np.all(np.isinf(hi1)) and np.all(hi1 > 0)


def test_a_new_watch_list_gets_its_own_limits_and_the_same_list_the_same():
    system = _system()
    current = np.array([0.0, 0.0, 0.0])
    first = [Watch(0, 3.0, "rising", ("a",), False)]
    second = [Watch(0, 3.5, "rising", ("a",), False), Watch(0, 2.5, "falling", ("b",), False)]
    lo, hi = phase_limits(system, [0], first, current)
    assert np.all(np.isinf(lo[0])) and np.allclose(hi[0], 2.9)
    lo, hi = phase_limits(system, [0], second, current)
    assert np.allclose(lo[0], 2.4) and np.allclose(hi[0], 3.4)
    lo, hi = phase_limits(system, [0], first, current)  # back to the first list
    assert np.all(np.isinf(lo[0])) and np.allclose(hi[0], 2.9)
    # the same list with another output set: the tap has no watch, so no limit
    lo, hi = phase_limits(system, [0, 1], second, current)
    assert np.allclose(hi[0], 3.4) and math.isinf(hi[1][0]) and math.isinf(lo[1][0])


def test_watched_levels_margin_is_the_drop_of_the_largest_phase_total_not_channels_times_the_largest():
    # A 0.5 Ω store with three channels over four phases. The margin of a watch that sees the
    # current is R·max over phases of Σ|I| (here phase 2: 0.05 + 0.01 = 0.06 A) with 10 % headroom
    # = 0.033 V; the largest single current times the channel count would be 0.5·0.05·3 = 0.075 V
    # (a LoRa node's 78-channel table had 2.2 V of margin and every stretch was cut near a level).
    from sysim.engine.levels import DROP_HEADROOM, watched_levels
    terminal = SimpleNamespace(c=(1.0,), d=-0.5, f=0.0)
    stepper = SimpleNamespace(system=SimpleNamespace(outputs=[terminal], series_resistance=0.5))
    currents = np.array([[0.001, 0.0, 0.05, 0.0],
                         [0.0, 0.02, 0.01, 0.0],
                         [0.0, 0.0, 0.0, -0.004]])  # A (+ = discharge) per channel × phase
    watches = [Watch(0, 1.9, "falling", ("brown-out",), True), Watch(0, 3.3, "rising", ("ov",), False)]
    levels = watched_levels(stepper, SimpleNamespace(channels=(None,) * 3), watches, 3.0, currents)
    assert DROP_HEADROOM == 1.1
    assert levels[0][0] == 1.9 and levels[0][1] == pytest.approx(0.5 * 0.06 * 1.1, rel=1e-12)
    assert levels[1] == (3.3, 0.0)  # a watch on the internal voltage has no drop
