"""Series × parallel packs of individual (mismatched) cells as one linear network, judged per cell.

``parallel`` strings of ``series`` cells; cell ``k`` (1-based, string-major: string ``j``, position
``i`` → ``k = j·series + i + 1``) has its own model and state. The pack offers one output per cell
terminal (``cell1``, ``cell2`` …, listed in ``cell_outputs`` so that brown-out and over-voltage are
judged per cell and the trace gets one column per cell) and each cell's own outputs prefixed
(``cell3.charge``), on which the cells' breakpoints (OCV knots, C(v) knots, fade steps) fire.

Two exact constructions (models-and-numerics.md §1.7, §2.8):

* **Uncoupled** — one string, no balancing resistors: every cell carries the terminal current, so
  the pack's modes are the cells' modes side by side; anything a cell supports (hysteresis, fade,
  flat OCV pieces) carries over exactly.
* **Coupled** — parallel strings or balancing resistors: cell currents depend on the cells' states.
  Each cell's modes are rescaled so that the cell reads ``dz̃/dt = λ·z̃ − c̃·I_c + ẽ``,
  ``E_c = c̃·z̃ + f`` with stored energy ½|z̃|² + linear terms (``z̃_i = √(−c_i/b_i)·z_i``: true for any
  RC network and for an OCV piece of slope s > 0, as a capacitor Q/s). Strings share the terminal
  through their series resistances (``I_j = (E'_j − V)/R'_j``, ``ΣI_j = I``) and a balancing resistor
  ``R_b`` across a cell's terminals turns it into a Thévenin source ``ρ·E_c``, ``ρ·R_c`` with
  ``ρ = R_b/(R_b + R_c)``. The resulting system matrix is symmetric, so one ``eigh`` gives the pack's
  modes. The dissipation (cell internal losses, ``R_c·I_c²``, ``V_c²/R_b``) is assembled from the
  physical currents and must come out diagonal in those modes with no ``I·z`` cross terms
  (Tellegen: dissipation = D(E) + R_th·I²); it is checked, so a wrong network cannot pass silently.
  Current-dependent cell modes (hysteresis) cannot follow circulating currents and are refused;
  the capacity-fade counter follows the string's share of the terminal current (circulating
  currents between strings are not counted as cycling).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .base import Breakpoint, StorageModel
from .linear import ModalSystem, Output

_SYMMETRY_TOL = 1e-9
_DIAGONAL_TOL = 1e-7


@dataclass(frozen=True)
class Spread:
    """Cell-to-cell spread: relative standard deviations of a normal distribution (clipped at ±3σ),
    drawn from a seeded generator, one independent stream per quantity."""

    capacitance: float = 0.0
    capacity: float = 0.0
    resistance: float = 0.0
    leakage: float = 0.0
    seed: int = 0

    KINDS = ("capacitance", "capacity", "resistance", "leakage")

    @property
    def is_zero(self) -> bool:
        return not any(getattr(self, k) for k in self.KINDS)

    def factors(self, count: int) -> list[dict[str, float]]:
        """One dict of multiplicative factors per cell."""
        out = [dict.fromkeys(self.KINDS, 1.0) for _ in range(count)]
        for index, kind in enumerate(self.KINDS):
            sigma = getattr(self, kind)
            if not sigma:
                continue
            rng = np.random.default_rng([self.seed, index])
            draws = np.clip(rng.standard_normal(count), -3.0, 3.0)
            for cell, d in zip(out, draws):
                cell[kind] = 1.0 + sigma * float(d)
        return out


class Pack(StorageModel):
    """``cells`` (string-major) in ``parallel`` strings of ``series``; optional balancing resistor
    (Ω) across every cell."""

    def __init__(self, cells: list[StorageModel], series: int, parallel: int,
                 balancing_resistance: float = math.inf):
        if len(cells) != series * parallel or series < 1 or parallel < 1:
            raise ValueError("a pack needs series × parallel cells")
        if not balancing_resistance > 0:
            raise ValueError("balancing_resistance must be positive")
        self.cells, self.series, self.parallel = list(cells), series, parallel
        self.balancing_resistance = balancing_resistance
        self.coupled = parallel > 1 or math.isfinite(balancing_resistance)
        self._cache: dict = {}
        self._build()

    # --- construction ---------------------------------------------------------------------------
    def _build(self) -> None:
        systems = [c.modal() for c in self.cells]
        key = tuple(id(s) for s in systems)
        entry = self._cache.get(key)
        # keep the cell systems in the entry: an id is only unique while its object lives
        if entry is None or any(a is not b for a, b in zip(entry[0], systems)):
            entry = self._cache[key] = (systems, self._coupled(systems) if self.coupled else self._chain(systems))
        self._system, self._map = entry[1]

    def _names(self, systems) -> list[str]:
        names = ["terminal"] + [f"cell{k}" for k in range(1, len(systems) + 1)]
        for k, s in enumerate(systems, start=1):
            names += [f"cell{k}.{o.name}" for o in s.outputs[1:]]
        return names

    def _chain(self, systems):
        n = sum(s.n for s in systems)
        offsets = np.cumsum([0] + [s.n for s in systems])
        outs = []
        term_c = np.zeros(n)
        for k, s in enumerate(systems):
            term_c[offsets[k]:offsets[k + 1]] = s.outputs[0].c
        outs.append(Output("terminal", tuple(term_c), sum(s.outputs[0].d for s in systems),
                           sum(s.outputs[0].f for s in systems)))
        placed = []
        for k, s in enumerate(systems):
            for o in s.outputs:
                c = np.zeros(n)
                c[offsets[k]:offsets[k + 1]] = o.c
                placed.append((k, o, c))
        outs += [Output(f"cell{k + 1}", tuple(c), o.d, o.f) for k, o, c in placed if o.name == "terminal"]
        outs += [Output(f"cell{k + 1}.{o.name}", tuple(c), o.d, o.f) for k, o, c in placed if o.name != "terminal"]

        def cat(attr):
            return tuple(v for s in systems for v in getattr(s, attr))
        system = ModalSystem(rates=cat("rates"), gains=cat("gains"), drifts=cat("drifts"), outputs=tuple(outs),
                             loss_quadratic=cat("loss_quadratic"), loss_linear=cat("loss_linear"),
                             loss_constant=sum(s.loss_constant for s in systems),
                             series_resistance=sum(s.series_resistance for s in systems),
                             cell_outputs=tuple(range(1, len(systems) + 1)),
                             rate_per_amp=cat("rate_per_amp"), loss_linear_per_amp=cat("loss_linear_per_amp"))
        slices = [(int(offsets[k]), int(offsets[k + 1])) for k in range(len(systems))]
        return system, ("chain", slices)

    def _coupled(self, systems):
        ns, r_bal = self.series, self.balancing_resistance
        net: list[tuple[int, int, float]] = []   # (cell, mode, scale D)
        passive: list[tuple[int, int]] = []      # (cell, mode)
        for k, s in enumerate(systems):
            term = s.outputs[0]
            for i in range(s.n):
                b, c = s.gains[i], term.c[i]
                if b == 0.0 and c == 0.0:
                    if s.loss_linear_per_amp[i]:
                        raise ValueError("a cell mode with current-dependent losses cannot be coupled in a pack")
                    passive.append((k, i))
                elif b != 0.0 and -c / b > 0.0:
                    if s.rate_per_amp[i] or s.loss_linear_per_amp[i]:
                        raise ValueError("cells with hysteresis cannot be used in parallel strings or with "
                                         "balancing resistors (the cell currents are not the terminal's)")
                    net.append((k, i, math.sqrt(-c / b)))
                else:
                    raise ValueError("a cell of this pack is not an RC network here (a perfectly flat OCV piece?); "
                                     "parallel strings and balancing need OCV tables whose voltage rises with SOC")
        n = len(net)
        index = {(k, i): m for m, (k, i, _) in enumerate(net)}
        # affine forms in (z̃, I): (vector, coefficient of I, constant)
        e_open, r_cell, rho, g_bal = [], [], [], []
        for k, s in enumerate(systems):
            vec = np.zeros(n)
            for (kk, i, d) in net:
                if kk == k:
                    vec[index[(k, i)]] = s.outputs[0].c[i] / d
            e_open.append((vec, 0.0, s.outputs[0].f))
            r_c = s.series_resistance
            r_cell.append(r_c)
            rho.append(1.0 if math.isinf(r_bal) else r_bal / (r_bal + r_c))
            g_bal.append(0.0 if math.isinf(r_bal) else 1.0 / (r_bal + r_c))
        strings = [list(range(j * ns, (j + 1) * ns)) for j in range(self.parallel)]
        if self.parallel == 1:
            i_string = [(np.zeros(n), 1.0, 0.0)]
        else:
            r_str = [sum(r_cell[c] * rho[c] for c in cells) for cells in strings]
            if min(r_str) <= 0.0:
                raise ValueError("parallel strings need a series resistance (esr / r0) to share the current")
            g = np.array([1.0 / r for r in r_str])
            w = g / g.sum()
            e_str = [_sum([_scale(e_open[c], rho[c]) for c in cells]) for cells in strings]
            e_mean = _sum([_scale(e, wj) for e, wj in zip(e_str, w)])
            i_string = [_add(_scale(_add(e_str[j], _scale(e_mean, -1.0)), g[j]), (np.zeros(n), w[j], 0.0))
                        for j in range(self.parallel)]
        i_cell, v_cell = [], []
        for j, cells in enumerate(strings):
            for c in cells:
                ic = _add(_scale(i_string[j], rho[c]), _scale(e_open[c], g_bal[c]))
                i_cell.append(ic)
                v_cell.append(_add(e_open[c], _scale(ic, -r_cell[c])))
        # dynamics dz̃/dt = A z̃ + B I + e
        a_mat, b_vec, e_vec = np.zeros((n, n)), np.zeros(n), np.zeros(n)
        for (k, i, d) in net:
            m, s = index[(k, i)], systems[k]
            c_t = s.outputs[0].c[i] / d
            vec, beta, const = i_cell[k]
            a_mat[m] -= c_t * vec
            a_mat[m, m] += s.rates[i]
            b_vec[m] = -c_t * beta
            e_vec[m] = d * s.drifts[i] - c_t * const
        scale = max(float(np.max(np.abs(a_mat))), 1e-300)
        if np.max(np.abs(a_mat - a_mat.T)) > _SYMMETRY_TOL * scale:
            raise RuntimeError("pack network matrix is not symmetric: cell models break the RC structure")
        mu, u = scipy.linalg.eigh(0.5 * (a_mat + a_mat.T))
        mu = np.where(np.abs(mu) < 1e-12 * scale, 0.0, mu)  # eigh's rounding on a zero (charge) mode
        if np.any(mu > 0):
            raise RuntimeError("pack network has a growing mode")
        # dissipation P = zᵀQz + 2I·mᵀz + r·I² + lᵀz + nI·I + l0, from the physical currents
        quad = _Quadratic(n)
        for (k, i, d) in net:
            m, s = index[(k, i)], systems[k]
            quad.q[m, m] += s.loss_quadratic[i] / (d * d)
            quad.l[m] += s.loss_linear[i] / d
        for k, s in enumerate(systems):
            quad.l0 += s.loss_constant
            quad.add_square(i_cell[k], r_cell[k])
            if math.isfinite(r_bal):
                quad.add_square(v_cell[k], 1.0 / r_bal)
        q_y = u.T @ quad.q @ u
        m_y = u.T @ quad.m
        size = max(float(np.max(np.abs(np.diag(q_y)))) if n else 0.0, 1e-300)
        off = q_y - np.diag(np.diag(q_y))
        if n and (np.max(np.abs(off)) > _DIAGONAL_TOL * size or
                  np.max(np.abs(m_y)) > _DIAGONAL_TOL * math.sqrt(size * max(quad.r, 1e-300))):
            raise RuntimeError("pack dissipation does not separate into modes: inconsistent network")
        # outputs (network part through U, passive part direct)
        n_pass = len(passive)
        pass_index = {(k, i): n + p for p, (k, i) in enumerate(passive)}

        def place(k: int, c_z, form=None) -> tuple:
            full = np.zeros(n + n_pass)
            for (kk, i, d) in net:
                if kk == k:
                    full[index[(k, i)]] += c_z[i] / d
            for (kk, i) in passive:
                if kk == k:
                    full[pass_index[(k, i)]] += c_z[i]
            beta = const = 0.0
            if form is not None:
                full[:n] += form[0]
                beta, const = form[1], form[2]
            out = np.concatenate([full[:n] @ u, full[n:]])
            return tuple(float(v) for v in out), beta, const

        def form_output(name, form) -> Output:
            c, beta, const = place(0, np.zeros(systems[0].n), form)
            return Output(name, c, beta, const)

        v_term = _sum([v_cell[c] for c in strings[0]])
        outs = [form_output("terminal", v_term)]
        outs += [form_output(f"cell{k + 1}", v_cell[k]) for k in range(len(systems))]
        for k, s in enumerate(systems):
            for o in s.outputs[1:]:
                c, _, _ = place(k, o.c)
                ic = i_cell[k]
                c = tuple(v + o.d * w_ for v, w_ in zip(c, np.concatenate([ic[0] @ u, np.zeros(n_pass)])))
                outs.append(Output(f"cell{k + 1}.{o.name}", c, o.d * ic[1], o.f + o.d * ic[2]))
        share = [abs(i_cell[k][1]) for k in range(len(systems))]
        system = ModalSystem(
            rates=tuple(float(v) for v in mu) + tuple(systems[k].rates[i] for k, i in passive),
            gains=tuple(float(v) for v in u.T @ b_vec) + (0.0,) * n_pass,
            drifts=tuple(float(v) for v in u.T @ e_vec) + tuple(systems[k].drifts[i] for k, i in passive),
            outputs=tuple(outs),
            loss_quadratic=tuple(float(v) for v in np.diag(q_y)) + tuple(systems[k].loss_quadratic[i] for k, i in passive),
            loss_linear=tuple(float(v) for v in u.T @ quad.l) + tuple(systems[k].loss_linear[i] for k, i in passive),
            loss_constant=quad.l0,
            series_resistance=quad.r,
            cell_outputs=tuple(range(1, len(systems) + 1)),
            rate_per_amp=(0.0,) * n + tuple(systems[k].rate_per_amp[i] * share[k] for k, i in passive),
            loss_linear_per_amp=tuple(float(2.0 * v) for v in m_y) + (0.0,) * n_pass,
        )
        return system, ("coupled", net, passive, u, index, pass_index)

    # --- state maps -----------------------------------------------------------------------------
    def cell_states(self, z) -> list[list[float]]:
        """Each cell's own state for pack state ``z``."""
        kind = self._map[0]
        if kind == "chain":
            return [list(z[a:b]) for a, b in self._map[1]]
        _, net, passive, u, index, pass_index = self._map
        n = len(net)
        zt = u @ np.asarray(z[:n], dtype=float) if n else np.zeros(0)
        states = [[0.0] * c.modal().n for c in self.cells]
        for (k, i, d) in net:
            states[k][i] = float(zt[index[(k, i)]] / d)
        for (k, i) in passive:
            states[k][i] = float(z[pass_index[(k, i)]])
        return states

    def pack_state(self, states) -> list[float]:
        kind = self._map[0]
        if kind == "chain":
            return [float(v) for s in states for v in s]
        _, net, passive, u, index, pass_index = self._map
        zt = np.zeros(len(net))
        for (k, i, d) in net:
            zt[index[(k, i)]] = d * states[k][i]
        return [float(v) for v in u.T @ zt] + [float(states[k][i]) for k, i in passive]

    # --- StorageModel -------------------------------------------------------------------------
    def modal(self) -> ModalSystem:
        return self._system

    def initial_state(self) -> list[float]:
        return self.pack_state([c.initial_state() for c in self.cells])

    def stored_energy(self, z) -> float:
        return math.fsum(c.stored_energy(s) for c, s in zip(self.cells, self.cell_states(z)))

    def breakpoints(self, z) -> list[Breakpoint]:
        out = []
        for k, (cell, state) in enumerate(zip(self.cells, self.cell_states(z))):
            out += [Breakpoint(f"cell{k + 1}.{bp.output}", bp.level, bp.direction, (k, bp))
                    for bp in cell.breakpoints(state)]
        return out

    def cross_breakpoint(self, z, breakpoint: Breakpoint):
        k, inner = breakpoint.tag
        states = self.cell_states(z)
        states[k] = self.cells[k].cross_breakpoint(states[k], inner)
        self._build()
        return self.pack_state(states)

    def set_temperature(self, kelvin, z):
        states = [c.set_temperature(kelvin, s) for c, s in zip(self.cells, self.cell_states(z))]
        self._cache.clear()
        self._build()
        return self.pack_state(states)

    def take_energy_released(self) -> float:
        return math.fsum(c.take_energy_released() for c in self.cells)

    def state_of_charge(self, z) -> float:
        """The weakest cell's state of charge (it decides when the pack is empty)."""
        return min(c.state_of_charge(s) for c, s in zip(self.cells, self.cell_states(z)))

    def describe(self) -> str:
        bal = "" if math.isinf(self.balancing_resistance) else f", balancing {self.balancing_resistance:g} Ω"
        return f"{self.series}s{self.parallel}p pack of individual cells ({self.cells[0].describe()}){bal}"


class _Quadratic:
    """Accumulates ``Σ W·(a·z + β·I + γ)²`` as zᵀQz + 2I·mᵀz + r·I² + lᵀz + n·I + l0."""

    def __init__(self, n: int):
        self.q, self.m, self.l = np.zeros((n, n)), np.zeros(n), np.zeros(n)
        self.r = self.n_i = self.l0 = 0.0

    def add_square(self, form, weight: float) -> None:
        a, beta, gamma = form
        self.q += weight * np.outer(a, a)
        self.m += weight * beta * a
        self.r += weight * beta * beta
        self.l += 2.0 * weight * gamma * a
        self.n_i += 2.0 * weight * beta * gamma
        self.l0 += weight * gamma * gamma


def _scale(form, k: float):
    return (form[0] * k, form[1] * k, form[2] * k)


def _add(f1, f2):
    return (f1[0] + f2[0], f1[1] + f2[1], f1[2] + f2[2])


def _sum(forms):
    out = forms[0]
    for f in forms[1:]:
        out = _add(out, f)
    return out
