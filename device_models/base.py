"""What every storage model offers the engine, and the exact collapse of identical-cell packs."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from .linear import ModalSystem, Output


@dataclass(frozen=True)
class Breakpoint:
    """An internal event of a model: ``output`` crosses ``level`` going ``direction``.

    Used for piecewise-linear OCV tables (a SOC boundary ends one linear piece) and any other
    place where the model's linearisation changes. ``tag`` is handed back to the model.
    """

    output: str
    level: float
    direction: str  # "rising" | "falling"
    tag: object = None


class StorageModel(ABC):
    """A storage element: its modal linearisation, energy and the physical view of its state.

    The state vector ``z`` lives in the coordinates of :meth:`modal`. Models whose linearisation
    changes (OCV pieces, temperature) keep ``z`` meaningful across the change or convert it in
    :meth:`cross_breakpoint`.
    """

    #: cells in series and strings in parallel, for per-cell judgement and reporting
    series: int = 1
    parallel: int = 1
    #: True when the linearisation must be renewed as the state moves (C(v) = C0 + k·v, Tafel
    #: leakage): the engine then limits each regime to :meth:`linear_horizon` and calls
    #: :meth:`relinearize` at the start of the next one
    nonlinear: bool = False

    def set_temperature(self, kelvin: float, z) -> list[float]:
        """Apply an ambient temperature (K); return the state in the (possibly new) coordinates.
        Models whose parameters do not depend on temperature keep the default."""
        return list(z)

    def linear_horizon(self, z, current_A: float) -> float:
        """How long (s) the present linearisation stays within its stated tolerance with
        ``current_A`` (the largest magnitude in the coming regime) flowing."""
        return math.inf

    def relinearize(self, z) -> list[float]:
        """Renew the linearisation at state ``z``; return the state in the new coordinates."""
        return list(z)

    @abstractmethod
    def modal(self) -> ModalSystem:
        """The current linearisation."""

    @abstractmethod
    def initial_state(self) -> list[float]:
        """State ``z`` at the start of a run."""

    @abstractmethod
    def stored_energy(self, z) -> float:
        """Energy held (J), computed from physical quantities (½·C·v², ∫OCV dq), independently of
        the modal machinery so that the ledger balance is a real check."""

    def breakpoints(self, z) -> list[Breakpoint]:
        """Internal events that are armed in the present linearisation."""
        return []

    def cross_breakpoint(self, z, breakpoint: Breakpoint) -> list[float]:
        """Switch linearisation at ``breakpoint``; return the state in the new coordinates."""
        return list(z)

    def state_of_charge(self, z) -> float:
        """Fraction of usable charge (batteries) or of energy at v_max (capacitors), 0..1."""
        return float("nan")

    def take_energy_released(self) -> float:
        """Energy (J) that the last transition (:meth:`cross_breakpoint`, :meth:`set_temperature`,
        :meth:`relinearize`) removed from :meth:`stored_energy` without passing the terminal, e.g.
        capacity fade; the engine books it as ``lost/storage_ageing`` and this resets it to 0."""
        return 0.0

    def trace_columns(self) -> list[str]:
        """Extra per-model trace columns (branch voltages, SOC ...)."""
        return []

    def trace_values(self, z) -> list[float]:
        return []

    def row_values(self, z) -> tuple[float, float, list[float]]:
        """``(state_of_charge, stored_energy (J), trace_values)`` of a sample row, which a model
        may work out from one evaluation of its node voltages."""
        return self.state_of_charge(z), self.stored_energy(z), self.trace_values(z)

    def describe(self) -> str:
        return type(self).__name__


class IdenticalPack(StorageModel):
    """``series`` × ``parallel`` identical cells collapsed exactly into one equivalent element.

    All cells share one state, each carries ``I/parallel``, the terminal sees ``series`` cell
    voltages (models-and-numerics.md §1.7: C_pack = C·Np/Ns, R_pack = R·Ns/Np), and energy and
    losses scale with the cell count.
    """

    def __init__(self, cell: StorageModel, series: int, parallel: int):
        if series < 1 or parallel < 1:
            raise ValueError("series and parallel must be at least 1")
        self.cell, self.series, self.parallel = cell, series, parallel
        self._cache_key = None
        self._cache = None

    def modal(self) -> ModalSystem:
        cell = self.cell.modal()
        if cell is self._cache_key:
            return self._cache
        ns, np_, count = self.series, self.parallel, self.series * self.parallel
        outs = []
        for o in cell.outputs:
            if o.name == "terminal":
                outs.append(Output("terminal", tuple(ns * c for c in o.c), ns * o.d / np_, ns * o.f))
                outs.append(Output("cell", o.c, o.d / np_, o.f))
            else:
                outs.append(Output(o.name, o.c, o.d / np_, o.f))
        system = ModalSystem(
            rates=cell.rates,
            gains=tuple(g / np_ for g in cell.gains),
            drifts=cell.drifts,
            outputs=tuple(outs),
            loss_quadratic=tuple(count * q for q in cell.loss_quadratic),
            loss_linear=tuple(count * q for q in cell.loss_linear),
            loss_constant=count * cell.loss_constant,
            series_resistance=cell.series_resistance * ns / np_,
            cell_outputs=(1,),
            # each cell carries I/parallel: |I|-dependent rates scale with it, and the bilinear
            # loss of every cell (l·I_cell·z) adds up over the count
            rate_per_amp=tuple(k / np_ for k in cell.rate_per_amp),
            loss_linear_per_amp=tuple(ns * k for k in cell.loss_linear_per_amp),
        )
        self._cache_key, self._cache = cell, system
        return system

    @property
    def nonlinear(self) -> bool:
        return self.cell.nonlinear

    def initial_state(self):
        return self.cell.initial_state()

    def set_temperature(self, kelvin, z):
        return self.cell.set_temperature(kelvin, z)

    def linear_horizon(self, z, current_A):
        return self.cell.linear_horizon(z, current_A / self.parallel)

    def relinearize(self, z):
        return self.cell.relinearize(z)

    def stored_energy(self, z) -> float:
        return self.series * self.parallel * self.cell.stored_energy(z)

    def breakpoints(self, z):
        return self.cell.breakpoints(z)

    def take_energy_released(self) -> float:
        return self.series * self.parallel * self.cell.take_energy_released()

    def cross_breakpoint(self, z, breakpoint):
        return self.cell.cross_breakpoint(z, breakpoint)

    def state_of_charge(self, z) -> float:
        return self.cell.state_of_charge(z)

    def trace_columns(self):
        return self.cell.trace_columns()

    def trace_values(self, z):
        return self.cell.trace_values(z)

    def row_values(self, z):
        soc, stored, trace = self.cell.row_values(z)
        return soc, self.series * self.parallel * stored, trace

    def describe(self) -> str:
        return f"{self.series}s{self.parallel}p pack of {self.cell.describe()}"
