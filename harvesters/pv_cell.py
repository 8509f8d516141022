"""Photovoltaic module: the single-diode model through pvlib, scaled to an area and a cell count.

Equation (models-and-numerics.md §3.1; pvlib.pvsystem.singlediode)::

    I = I_L - I_0·[exp((V + I·R_s)/(n·N_s·V_th)) - 1] - (V + I·R_s)/R_sh

Parameters depend on irradiance and cell temperature through the PVsyst model
(``pvlib.pvsystem.calcparams_pvsyst``): ``I_L ∝ S_eff·(1 + α·ΔT)``, ``I_0`` follows the band gap
(``∝ T³·exp(-E_g/(γ·k·T))``), the diode factor ``γ = γ_ref + μ_γ·ΔT``. The shunt resistance is kept
independent of irradiance (``R_sh_0 = R_sh_ref``): indoors the shunt dominates and the
De Soto ``R_sh ∝ 1/S`` scaling would make it unrealistically large at 200 lx.

A preset gives the cell per unit area (A/m², Ω·m²); a module of active area ``A`` made of ``N_s``
cells in series has cells of area ``a = A/N_s``: ``I_L = J_L·a``, ``I_0 = J_0·a``,
``R_s = N_s·r_s/a``, ``R_sh = N_s·r_sh/a``, ``n·N_s·V_th`` with ``N_s`` cells.

``S_eff`` is the *effective* irradiance: the incident irradiance times the cell's spectral factor
for the light source (its responsivity under that spectrum relative to AM1.5G, the spectrum the
reference photocurrent density is given for), as in pvlib's effective-irradiance convention.

pvlib is called vectorised when a harvester is built (all light segments at once), never per
event. Where the engine needs ``I(V)`` during a run (a cell wired straight to the storage) the
explicit Lambert-W solution is evaluated by :func:`single_diode_current` (pure Python, a few µs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

T_REF_K = 298.15
S_REF = 1000.0  # W/m², the reference (AM1.5G) irradiance of the photocurrent density


@dataclass(frozen=True)
class PVCellParameters:
    """One cell technology, per unit of active area (SI)."""

    cells_in_series: int
    photocurrent_density: float        # A/m² at 1000 W/m² AM1.5G, 25 °C
    saturation_current_density: float  # A/m² at 25 °C
    ideality: float                    # diode factor γ at 25 °C
    series_resistance_area: float      # Ω·m² per cell
    shunt_resistance_area: float       # Ω·m² per cell
    bandgap_eV: float = 1.121
    ideality_temp_coeff: float = 0.0   # 1/K (PVsyst μ_γ)
    isc_temp_coeff: float = 0.0005     # 1/K, relative change of I_L
    #: responsivity under each light source relative to AM1.5G (lux presets need one per source)
    spectral_factors: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DiodeParameters:
    """Single-diode parameters of a whole module (arrays or scalars, SI)."""

    photocurrent: np.ndarray
    saturation_current: np.ndarray
    series_resistance: np.ndarray
    shunt_resistance: np.ndarray
    nNsVth: np.ndarray

    def at(self, i: int) -> tuple[float, float, float, float, float]:
        return (float(self.photocurrent[i]), float(self.saturation_current[i]), float(self.series_resistance[i]),
                float(self.shunt_resistance[i]), float(self.nNsVth[i]))


class PVModule:
    """A module of ``cells_in_series`` cells covering ``area_m2`` of active area."""

    def __init__(self, cell: PVCellParameters, area_m2: float, cells_in_series: int | None = None):
        if not area_m2 > 0:
            raise ValueError("area must be positive")
        self.cell = cell
        self.area_m2 = float(area_m2)
        self.cells_in_series = int(cells_in_series or cell.cells_in_series)
        if self.cells_in_series < 1:
            raise ValueError("cells_in_series must be at least 1")

    @property
    def cell_area_m2(self) -> float:
        return self.area_m2 / self.cells_in_series

    def diode_parameters(self, effective_irradiance, cell_temperature_K) -> DiodeParameters:
        """Module parameters at effective irradiance (W/m²) and cell temperature (K), via
        ``pvlib.pvsystem.calcparams_pvsyst`` (vectorised)."""
        import pvlib

        c, a, ns = self.cell, self.cell_area_m2, self.cells_in_series
        s = np.atleast_1d(np.asarray(effective_irradiance, dtype=float))
        t_c = np.broadcast_to(np.asarray(cell_temperature_K, dtype=float) - 273.15, s.shape)
        i_l_ref = c.photocurrent_density * a
        r_sh = ns * c.shunt_resistance_area / a
        i_l, i_0, r_s, r_sh_out, n_ns_vth = pvlib.pvsystem.calcparams_pvsyst(
            effective_irradiance=s, temp_cell=t_c, alpha_sc=c.isc_temp_coeff * i_l_ref,
            gamma_ref=c.ideality, mu_gamma=c.ideality_temp_coeff, I_L_ref=i_l_ref,
            I_o_ref=c.saturation_current_density * a, R_sh_ref=r_sh, R_sh_0=r_sh,
            R_s=ns * c.series_resistance_area / a, cells_in_series=ns, EgRef=c.bandgap_eV,
            irrad_ref=S_REF, temp_ref=T_REF_K - 273.15)
        shape = s.shape
        return DiodeParameters(np.maximum(np.broadcast_to(i_l, shape), 0.0), np.broadcast_to(i_0, shape) * 1.0,
                               np.broadcast_to(r_s, shape) * 1.0, np.broadcast_to(r_sh_out, shape) * 1.0,
                               np.broadcast_to(n_ns_vth, shape) * 1.0)

    def operating_points(self, p: DiodeParameters) -> dict[str, np.ndarray]:
        """Short-circuit current, open-circuit voltage and maximum power point per element
        (``pvlib.pvsystem.singlediode``, Lambert-W method); dark elements give zeros."""
        import pvlib

        lit = p.photocurrent > 0.0
        out = {k: np.zeros(p.photocurrent.shape) for k in ("i_sc", "v_oc", "i_mp", "v_mp", "p_mp")}
        if lit.any():
            res = pvlib.pvsystem.singlediode(p.photocurrent[lit], p.saturation_current[lit], p.series_resistance[lit],
                                             p.shunt_resistance[lit], p.nNsVth[lit], method="lambertw")
            for k in out:
                out[k][lit] = np.asarray(res[k], dtype=float)
        return out

    def current_at(self, voltage, p: DiodeParameters) -> np.ndarray:
        """Module current (A) at terminal voltage(s) (V), vectorised (``pvlib.pvsystem.i_from_v``)."""
        import pvlib

        lit = p.photocurrent > 0.0
        v = np.broadcast_to(np.asarray(voltage, dtype=float), p.photocurrent.shape)
        out = np.zeros(p.photocurrent.shape)
        if lit.any():
            out[lit] = pvlib.pvsystem.i_from_v(v[lit], p.photocurrent[lit], p.saturation_current[lit],
                                               p.series_resistance[lit], p.shunt_resistance[lit], p.nNsVth[lit])
        return out


def w_of_exp(x: float) -> float:
    """Lambert W of ``exp(x)`` for any real ``x`` without overflow: the root of ``w + ln w = x``.

    Fritsch–Shafer–Crowley iteration (Commun. ACM 16:123, 1973; fourth order): two steps from the
    asymptotic start ``x - ln x`` (``x > 1``), a first-order start around ``W(1)`` (``-1 ≤ x ≤ 1``)
    or ``z/(1 + z/(1 + z))`` (``x < -1``) reach double precision (checked against
    ``scipy.special.lambertw`` from x = -60 to 700 in the tests)."""
    if x < -40.0:
        return math.exp(x)  # W(z) = z - z² + ... and z < 5e-18
    if x > 1.0:
        w = x - math.log(x)
    elif x >= -1.0:
        w = 0.5671432904097838 + 0.3 * x
    else:
        ez = math.exp(x)
        w = ez / (1.0 + ez / (1.0 + ez))
    for _ in range(2):
        z = x - w - math.log(w)
        q = 2.0 * (1.0 + w) * (1.0 + w + 2.0 * z / 3.0)
        w *= 1.0 + z / (1.0 + w) * (q - z) / (q - 2.0 * z)
    return w


def single_diode_current(v: float, i_l: float, i_0: float, r_s: float, r_sh: float, n_ns_vth: float) -> float:
    """Explicit module current (A) at terminal voltage ``v`` (V): the Lambert-W solution of the
    single-diode equation (Jain & Kapoor; the form pvlib's ``i_from_v`` uses)."""
    g_sh = 0.0 if math.isinf(r_sh) else 1.0 / r_sh
    if r_s == 0.0:
        return i_l - i_0 * math.expm1(v / n_ns_vth) - v * g_sh
    k = 1.0 + r_s * g_sh
    log_theta = math.log(r_s * i_0 / (n_ns_vth * k)) + (r_s * (i_l + i_0) + v) / (n_ns_vth * k)
    return (i_l + i_0 - v * g_sh) / k - (n_ns_vth / r_s) * w_of_exp(log_theta)
