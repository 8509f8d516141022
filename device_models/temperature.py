"""Arrhenius temperature dependence of resistances and leakage (models-and-numerics.md §2.5).

``R(T) = R_ref·exp[(Ea/R_gas)·(1/T − 1/T_ref)]``: a resistance grows as it gets colder; a leakage
*current* (or self-discharge rate) follows the inverse factor and grows as it gets warmer. With
Ea = 58 kJ/mol (LiPON) the factor is 8.5 at 0 °C against 25 °C (§2.5).
"""
from __future__ import annotations

import math

#: molar gas constant, J/(mol·K) (CODATA 2018, exact)
R_GAS = 8.314462618
#: 25 °C, the reference temperature of datasheets and of every preset unless it says otherwise
T_REFERENCE_K = 298.15


def arrhenius_factor(activation_energy_J_per_mol: float, kelvin: float | None,
                     reference_kelvin: float = T_REFERENCE_K) -> float:
    """Factor by which a thermally activated resistance grows from ``reference_kelvin`` to
    ``kelvin`` (1 when ``kelvin`` is None or Ea is 0). Leakage currents scale by its inverse."""
    if kelvin is None or activation_energy_J_per_mol == 0.0:
        return 1.0
    if not kelvin > 0:
        raise ValueError(f"temperature must be above 0 K, got {kelvin:g} K")
    return math.exp(activation_energy_J_per_mol / R_GAS * (1.0 / kelvin - 1.0 / reference_kelvin))
