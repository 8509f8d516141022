"""Storage elements as diagonal (modal) linear systems: the interface to the engine.

Every storage model hands the engine its current linearisation as a :class:`ModalSystem`::

    dz_i/dt = λ_i·z_i + b_i·I + e_i          (I: terminal current in A, positive = discharge)
    y_k     = Σ_i c_ki·z_i + d_k·I + f_k      (outputs: terminal voltage, cell voltages, charge, ...)
    P_int   = Σ_i q_i·z_i² + Σ_i l_i·z_i + l0  (W, dissipated inside the element)
    P_ser   = R_series·I²                     (W, dissipated in the series resistance)

Because the modes are decoupled, a segment with constant I is stepped exactly in O(n) (the
eigendecomposition form of the ZOH step, models-and-numerics.md §5.1), and the ledger integrals are
O(n) too. :func:`rc_network` builds this form for any network of resistors and capacitors from its
capacitance and conductance matrices by the generalised symmetric eigenproblem ``G·v = μ·C·v``:
with ``x = V·z`` and ``Vᵀ·C·V = 1``, the stored energy is ``½·Σz²`` and the dissipation ``Σ μ·z²``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg


@dataclass(frozen=True)
class Output:
    """A linear output ``y = c·z + d·I + f`` (V for voltages, C for charges)."""

    name: str
    c: tuple[float, ...]
    d: float = 0.0
    f: float = 0.0

    def value(self, z, current_A: float = 0.0) -> float:
        return sum(ci * zi for ci, zi in zip(self.c, z)) + self.d * current_A + self.f


@dataclass(frozen=True)
class ModalSystem:
    """One linearisation of a storage element in decoupled coordinates (see module docstring).

    ``outputs[0]`` is always the terminal voltage. ``cell_outputs`` lists the indices of the
    per-cell terminal voltages (``(0,)`` for a single cell); protection is judged on them.
    """

    rates: tuple[float, ...]          # λ_i (1/s), all ≤ 0
    gains: tuple[float, ...]          # b_i per ampere of terminal current
    drifts: tuple[float, ...]         # e_i, constant forcing (self-discharge sources, OCV offsets)
    outputs: tuple[Output, ...]
    loss_quadratic: tuple[float, ...]  # q_i (W per unit z²)
    loss_linear: tuple[float, ...] = ()  # l_i (W per unit z)
    loss_constant: float = 0.0         # l0 (W)
    series_resistance: float = 0.0     # Ω, the instantaneous resistance seen at the terminal
    cell_outputs: tuple[int, ...] = (0,)
    #: current-dependent modes: λ_i(I) = rates_i + rate_per_amp_i·|I| (e.g. a Plett hysteresis state)
    rate_per_amp: tuple[float, ...] = ()
    #: internal power bilinear in state and current: adds loss_linear_per_amp_i·I·z_i (W)
    loss_linear_per_amp: tuple[float, ...] = ()
    output_index: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        n = len(self.rates)
        if not (len(self.gains) == len(self.drifts) == len(self.loss_quadratic) == n):
            raise ValueError("modal system vectors differ in length")
        for name in ("loss_linear", "rate_per_amp", "loss_linear_per_amp"):
            if not getattr(self, name):
                object.__setattr__(self, name, (0.0,) * n)
        if any(r > 0 for r in self.rate_per_amp):
            raise ValueError("rate_per_amp must not be positive (modes must not grow)")
        if any(r > 0 for r in self.rates):
            raise ValueError("a storage element cannot have a growing mode (positive eigenvalue)")
        if any(len(o.c) != n for o in self.outputs):
            raise ValueError("output vector length differs from the number of modes")
        if not self.outputs or self.outputs[0].name != "terminal":
            raise ValueError("outputs[0] must be the terminal voltage")
        self.output_index.update({o.name: k for k, o in enumerate(self.outputs)})

    @property
    def n(self) -> int:
        return len(self.rates)

    @property
    def current_dependent(self) -> bool:
        return any(self.rate_per_amp) or any(self.loss_linear_per_amp)

    def rates_at(self, current_A: float) -> tuple[float, ...]:
        """Mode rates (1/s) with terminal current ``current_A`` flowing."""
        if not any(self.rate_per_amp):
            return self.rates
        a = abs(current_A)
        return tuple(r + k * a for r, k in zip(self.rates, self.rate_per_amp))

    def loss_linear_at(self, current_A: float) -> tuple[float, ...]:
        if not any(self.loss_linear_per_amp):
            return self.loss_linear
        return tuple(l + k * current_A for l, k in zip(self.loss_linear, self.loss_linear_per_amp))

    def output(self, name: str) -> Output:
        return self.outputs[self.output_index[name]]


def rc_network(capacitance: np.ndarray, conductance: np.ndarray, injection: np.ndarray,
               outputs: dict[str, tuple[np.ndarray, float, float]], *, sources: np.ndarray | None = None,
               series_resistance: float = 0.0, cell_outputs: tuple[str, ...] = ("terminal",)):
    """Modal form of ``C·dx/dt = -G·x + injection·I + sources`` (x: node voltages in V).

    ``capacitance`` (F) and ``conductance`` (S) are symmetric; C positive definite, G positive
    semidefinite. ``injection`` maps the terminal current into node currents (``-1`` at the node the
    terminal feeds, since I > 0 discharges). ``outputs`` maps a name to ``(c_x, d, f)`` in node
    coordinates. Returns ``(ModalSystem, V)`` where ``x = V·z``; to convert an initial node-voltage
    vector use ``z = Vᵀ·C·x``.
    """
    cap = np.asarray(capacitance, dtype=float)
    cond = np.asarray(conductance, dtype=float)
    if not np.allclose(cap, cap.T) or not np.allclose(cond, cond.T, rtol=1e-12, atol=0.0):
        raise ValueError("capacitance and conductance matrices must be symmetric")
    mu, vecs = scipy.linalg.eigh(cond, cap)
    mu = np.where(np.abs(mu) < 1e-15 * max(1.0, float(np.max(np.abs(mu)))), 0.0, mu)
    if np.any(mu < 0):
        raise ValueError("conductance matrix is not positive semidefinite")
    src = np.zeros(cap.shape[0]) if sources is None else np.asarray(sources, dtype=float)
    gains = vecs.T @ np.asarray(injection, dtype=float)
    drifts = vecs.T @ src
    outs = []
    for name, (c_x, d, f) in outputs.items():
        outs.append(Output(name, tuple(float(v) for v in np.asarray(c_x, dtype=float) @ vecs), float(d), float(f)))
    # Constant current sources absorb power -x·s; in modal coordinates that is -(Vᵀs)·z.
    system = ModalSystem(
        rates=tuple(float(-m) for m in mu),
        gains=tuple(float(g) for g in gains),
        drifts=tuple(float(e) for e in drifts),
        outputs=tuple(outs),
        loss_quadratic=tuple(float(m) for m in mu),
        loss_linear=tuple(float(-e) for e in drifts),
        series_resistance=float(series_resistance),
        cell_outputs=tuple(list(outputs).index(n) for n in cell_outputs),
    )
    return system, vecs
