"""Study: how a constant-power stretch should hold its current, on the benchmark's store.

Not a benchmark of the engine: a prototype, in plain numpy/scipy, of the choice the engine's
stretches make (sysim.engine.stretch), to size the next step of issue 6. One morning's charging
ramp of the benchmark node's storage (0.47 F with ESR 0.5 Ω, a 0.2 F / 50 Ω branch, 500 kΩ
leakage; benchmarks/scenarios.py) at 10 mW into the terminal, from 2.8 V (branches equal) to
4.1 V, is integrated

* as reference: ``solve_ivp`` (rtol 1e-12) on the nonlinear ODE, ``I = P/V_terminal``;
* in stretches of exact linear steps (the augmented-matrix form of models-and-numerics.md §5.1)
  whose current is held either constant at ``P/V(E_mid)`` (zero-order hold: what the engine does)
  or ramped linearly with that mean and the slope between the stretch's end currents (first-order
  hold with the same mean), each solved by the same fixed-point iteration on ``E1``;
* with stretches sized either by the engine's rule (the internal voltage moves by at most a share
  ``δ``: ``power_tolerance``), by that rule with the first stretches after the harvest starts cut
  into parts (while the fast branch builds up its lag behind the current), or by step doubling on
  a local error tolerance.

Errors are the largest difference from the reference at eight points inside every stretch (each
taken like a sample: held from the stretch start) and at the ramp's end.

Run: ``python benchmarks/hold_study.py`` (about 10 s).
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import expm

C1_F, C2_F, R2_OHM, RLEAK_OHM, ESR_OHM = 0.47, 0.2, 50.0, 5e5, 0.5
POWER_W = 0.010
V_START, V_END = 2.8, 4.1
A = np.array([[-(1 / R2_OHM + 1 / RLEAK_OHM) / C1_F, 1 / (R2_OHM * C1_F)],
              [1 / (R2_OHM * C2_F), -1 / (R2_OHM * C2_F)]])
B = np.array([1 / C1_F, 0.0])
X0 = np.array([V_START, V_START])


def charge_current_a(e_open_v: float) -> float:
    """Charging current (A) at internal voltage E: ``V² − E·V − R·P = 0`` for the terminal V."""
    v_term = 0.5 * (e_open_v + np.sqrt(e_open_v * e_open_v + 4 * ESR_OHM * POWER_W))
    return POWER_W / v_term


def reference():
    def rhs(_t, x):
        return A @ x + B * charge_current_a(x[0])

    def full(_t, x):
        return x[0] - V_END
    full.terminal = True
    sol = solve_ivp(rhs, (0, 5000), X0, rtol=1e-12, atol=1e-14, events=full, dense_output=True)
    return sol.sol, float(sol.t_events[0][0])


def exact_step(x, h_s: float, i_start_a: float, i_end_a: float):
    """Exact step of ``h_s`` with the current ramping from ``i_start_a`` to ``i_end_a``."""
    m = np.zeros((4, 4))
    m[:2, :2], m[:2, 2], m[2, 3] = A * h_s, B * h_s, 1.0
    e = expm(m)
    return e[:2, :2] @ x + e[:2, 2] * i_start_a + e[:2, 3] * (i_end_a - i_start_a)


def held_step(x, h_s: float, hold: str):
    """A stretch of ``h_s``: the current at the midpoint voltage, ramped (``foh``) or not."""
    i0 = charge_current_a(x[0])
    x1 = exact_step(x, h_s, i0, i0)
    for _ in range(3):
        i_mid = charge_current_a(0.5 * (x[0] + x1[0]))
        slope = charge_current_a(x1[0]) - i0 if hold == "foh" else 0.0
        x1 = exact_step(x, h_s, i_mid - slope / 2, i_mid + slope / 2)
    return x1


def run(hold: str, delta: float | None = None, tol_v: float | None = None, first_parts: int = 1):
    """Stretch count, largest sample error and end error (V). ``first_parts``: the first
    stretch of the ``delta`` rule is taken as that many stretches of ``delta / first_parts``."""
    ref, t_end = reference_cache
    t, x, count, errors, h = 0.0, X0.copy(), 0, [], 5.0
    while t < t_end - 1e-9:
        rate = charge_current_a(x[0]) / (C1_F + C2_F)  # dE/dt, roughly
        if delta is not None:
            share = delta / first_parts if count < first_parts else delta
            h = min(share * x[0] / rate, t_end - t)
            x1 = held_step(x, h, hold)
        else:
            while True:
                h = min(h, 0.5 * x[0] / rate, t_end - t)
                x1 = held_step(x, h, hold)
                estimate = abs(x1[0] - held_step(held_step(x, h / 2, hold), h / 2, hold)[0])
                if estimate <= tol_v or h < 1e-3:
                    break
                h *= max(0.2, 0.9 * (tol_v / estimate) ** 0.5)
        for share in np.linspace(0, 1, 9)[1:]:
            errors.append(abs(held_step(x, share * h, hold)[0] - ref(t + share * h)[0]))
        x, t, count = x1, t + h, count + 1
        if delta is None:
            h *= min(4.0, 0.9 * (tol_v / max(estimate, 1e-18)) ** 0.5)
    return count, max(errors), abs(x[0] - ref(t_end)[0])


reference_cache = reference()


def main() -> None:
    print(f"ramp {V_START} V -> {V_END} V at {POWER_W * 1e3:g} mW: {reference_cache[1]:.0f} s")
    print(f"{'sizing':24s} {'hold':5s} {'stretches':>9s} {'max sample err':>15s} {'end err':>9s}")
    for delta in (0.03, 0.06, 0.12, 0.25):
        for hold in ("zoh", "foh"):
            n, e_in, e_end = run(hold, delta=delta)
            print(f"{'move <= %g %%' % (delta * 100):24s} {hold:5s} {n:9d} {e_in * 1e3:12.4f} mV "
                  f"{e_end * 1e3:6.4f} mV")
    for delta, parts in ((0.06, 2), (0.12, 4), (0.25, 8)):
        for hold in ("zoh", "foh"):
            n, e_in, e_end = run(hold, delta=delta, first_parts=parts)
            print(f"{'move <= %g %%, first /%d' % (delta * 100, parts):24s} {hold:5s} {n:9d} {e_in * 1e3:12.4f} mV "
                  f"{e_end * 1e3:6.4f} mV")
    for tol_v in (1e-4, 3e-5, 1e-5):
        for hold in ("zoh", "foh"):
            n, e_in, e_end = run(hold, tol_v=tol_v)
            print(f"{'local error <= %g uV' % (tol_v * 1e6):24s} {hold:5s} {n:9d} {e_in * 1e3:12.4f} mV "
                  f"{e_end * 1e3:6.4f} mV")


if __name__ == "__main__":
    main()
