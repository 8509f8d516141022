"""Exact step and ledger integrals of a modal system over a segment with constant terminal current.

Per mode (models-and-numerics.md §5.1, in eigen-coordinates): ``z ← p·z + g`` with
``p = e^(λh)``, ``g = w·φ(λ,h)``, ``w = b·I + e``. A :class:`Phase` adds up ``Σz0`` and ``Σz0²`` over
all the segments it covers; :meth:`Phase.flush` turns those sums into exact energies:

* energy taken at the terminal by each draw: ``I_d·∫V dt``, ``∫V dt = Σ c_i·(φ_i·Σz0_i + N·ψ_i·w_i) + N·h·(d·I + f)``
* series-resistance loss: ``N·h·R·I²``
* internal loss: ``Σ q_i·∫z_i² + l_i·∫z_i + l0·N·h`` with ``∫z² = φ(2λ)·Σz0² + 2χ·w·Σz0 + N·ω·w²``.
"""
from __future__ import annotations

import math

from device_models.linear import ModalSystem

from .draws import Draw
from .expint import chi, omega, phi, psi
from .ledger import Ledger


class Coeffs:
    """Step and integral coefficients for one (system, h, I)."""

    __slots__ = ("h", "current", "rates", "p", "g", "w", "phi", "psi", "phi2", "chi", "omega")

    def __init__(self, system: ModalSystem, h: float, current: float, lengths=None):
        """``lengths``: the current-independent coefficients of ``h`` at the system's rates if
        already known (``p``, ``phi``, ``psi``, ``phi2``, ``chi``, ``omega``; sysim.engine.regime)."""
        self.h, self.current = h, current
        self.rates = rates = system.rates_at(current)
        self.w = tuple(b * current + e for b, e in zip(system.gains, system.drifts))
        if lengths is not None:
            self.p, self.phi, self.psi = lengths.p, lengths.phi, lengths.psi
            self.phi2, self.chi, self.omega = lengths.phi2, lengths.chi, lengths.omega
        else:
            self.phi = tuple(phi(lam, h) for lam in rates)
            self.p = tuple(math.exp(lam * h) for lam in rates)
            self.psi = tuple(psi(lam, h) for lam in rates)
            self.phi2 = tuple(phi(2.0 * lam, h) for lam in rates)
            self.chi = tuple(chi(lam, h) for lam in rates)
            self.omega = tuple(omega(lam, h) for lam in rates)
        self.g = tuple(w * f for w, f in zip(self.w, self.phi))


def step_state(system: ModalSystem, z, h: float, current: float) -> list[float]:
    """The state ``h`` s after ``z`` at constant ``current``: the step of :class:`Coeffs` alone,
    without its ledger integrals (a root search on a trajectory needs only this)."""
    out = []
    for zi, lam, b, e in zip(z, system.rates_at(current), system.gains, system.drifts):
        out.append(math.exp(lam * h) * zi + (b * current + e) * phi(lam, h))
    return out


class Phase:
    """One phase of a regime: its draws with their frozen currents and running sums.

    ``acc = [count, Σz0_0..Σz0_{n-1}, Σz0_0²..Σz0_{n-1}²]`` over the segments stepped so far.
    """

    __slots__ = ("h", "h_ns", "draws", "currents", "current", "co", "acc")

    def __init__(self, h: float, h_ns: int, draws: tuple[Draw, ...], currents: tuple[float, ...],
                 current: float, co: Coeffs | None):
        self.h, self.h_ns, self.draws, self.currents, self.current, self.co = h, h_ns, draws, currents, current, co
        self.acc = [0.0] * (1 + 2 * len(co.p)) if co is not None else [0.0]

    def add(self, count: float, s1, s2) -> None:
        """Add ``count`` segments whose start states sum to ``s1`` (squares: ``s2``)."""
        acc, n = self.acc, len(s1)
        acc[0] += count
        for i in range(n):
            acc[1 + i] += s1[i]
            acc[1 + n + i] += s2[i]

    def flush(self, system: ModalSystem, ledger: Ledger) -> None:
        """Book the energies of the segments accumulated so far and reset the sums."""
        acc = self.acc
        if acc[0] == 0:
            return
        n = (len(acc) - 1) // 2
        flush_sums(system, self.co, acc[0], acc[1:1 + n], acc[1 + n:], self.draws, self.currents, ledger)
        acc[:] = [0.0] * len(acc)  # in place: the kernel holds a reference to this list


def flush_sums(system: ModalSystem, co: Coeffs, count: float, s1, s2, draws, currents, ledger: Ledger) -> None:
    """Book ``count`` segments of coefficients ``co`` whose start states sum to ``s1`` (and squares ``s2``)."""
    term = system.outputs[0]
    h, current = co.h, co.current
    int_z = [f * a + count * ps * w for f, a, ps, w in zip(co.phi, s1, co.psi, co.w)]
    int_v = math.fsum(c * iz for c, iz in zip(term.c, int_z)) + count * h * (term.d * current + term.f)
    int_z2 = [f2 * b + 2.0 * ch * w * a + count * om * w * w
              for f2, b, ch, w, a, om in zip(co.phi2, s2, co.chi, co.w, s1, co.omega)]
    internal = math.fsum(q * iz2 for q, iz2 in zip(system.loss_quadratic, int_z2)) \
        + math.fsum(l * iz for l, iz in zip(system.loss_linear_at(current), int_z)) \
        + system.loss_constant * count * h
    ledger.add("lost/storage_internal", internal)
    if current != 0.0 and system.series_resistance:
        ledger.add("lost/esr", system.series_resistance * current * current * count * h)
    for draw, i_d in zip(draws, currents):
        energy = i_d * int_v
        for account, per_joule, per_second in draw.accounts:
            ledger.add(account, per_joule * energy + per_second * count * h)
