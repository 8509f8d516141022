"""The PMIC's output rail (``rail = "pmic"`` loads): gated by power good, optionally through a buck.

With a buck converter at ``buck_voltage`` a load taking ``I`` (or ``P``) from the rail takes
``P_s = (V_out·I + P)/η_buck(I_out)`` from the storage, a constant-power draw; the ledger books
``η·E_s`` as delivered to the load and ``(1 - η)·E_s`` as ``lost/converter/<pmic>.buck``. Without
a buck the rail is the storage terminal switched by power good (the VBAT_OK output driving a load
switch, as on the BQ25570 EVM).
"""
from __future__ import annotations

from sysim.engine.draws import Draw, load_draw
from sysim.engine.rail import Rail

from .pmic import Pmic


class PmicRail(Rail):
    name = "pmic"

    def __init__(self, pmic: Pmic):
        self.pmic = pmic

    def draw(self, owner: str, current_A: float = 0.0, power_W: float = 0.0, label: str = "") -> Draw:
        p = self.pmic.p
        if p.buck_voltage is None:
            return load_draw(owner, current_A, power_W, label)
        rail_power = p.buck_voltage * current_A + power_W
        if rail_power <= 0.0:
            return Draw(owner, label=label)
        eta = p.buck(rail_power / p.buck_voltage)
        return Draw(owner, power_W=rail_power / eta,
                    accounts=((f"to_loads/{owner}", eta, 0.0), (f"lost/converter/{self.pmic.name}.buck", 1.0 - eta, 0.0)),
                    label=label)

    def is_on(self, sim) -> bool:
        return self.pmic.power_good

    def voltage(self, storage_voltage: float) -> float:
        v_out = self.pmic.p.buck_voltage
        return storage_voltage if v_out is None else min(v_out, storage_voltage)
