"""The scenario's ``[firmware]`` table (contract in DESIGN.md, "Scenario file").

```toml
[firmware]
script = "firmware/adaptive.py"      # the MicroPython script (resolved against the scenario's folder)
runner = "micropython"               # "cpython" | "micropython" | "serial:/dev/ttyACM0"
mcu = "nrf52"                        # an MCU class, or { preset = "nrf52", sleep_current = "3 uA", ... }
active_time = "1 ms"                 # simulated time the code between two blocking calls takes
adc = { 0 = { source = "storage", divider = 0.5 } }   # ADC id -> storage output or rail, divider
pins = { 5 = "radio" }               # Pin id -> the [[load]] it switches
```

``build(ctx, components)`` returns the MCU load and the firmware runner; the loads named in
``pins`` draw only while their pin is high.
"""
from __future__ import annotations

import ast
import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from sysim.errors import ScenarioError
from sysim.scenario.fields import Count, Quantity, Table
from sysim.scenario.registry import register_firmware_table, register_scenario_check
from sysim.scenario.schema import FilePath

from .mcu import MCU_CLASSES, McuClass, McuLoad, register_presets
from .protocol import ident_ok
from .runner import RTC_POWER_ON_EPOCH_NS, AdcChannel, FirmwareRunner

RUNNERS = ("cpython", "micropython", "serial:PORT")
#: a firmware script larger than this is not one (MicroPython boards hold a few hundred kB)
MAX_SCRIPT_BYTES = 10_000_000


class McuTable(Table):
    """An MCU class with optional overrides of its currents and clock."""

    preset: str = "nrf52"
    active_current: Optional[Quantity("current", positive=True)] = None
    sleep_current: Optional[Quantity("current", non_negative=True)] = None
    deepsleep_current: Optional[Quantity("current", non_negative=True)] = None
    freq: Optional[Quantity("frequency", positive=True)] = None

    @field_validator("preset")
    @classmethod
    def _known(cls, name):
        name = name.removeprefix("mcu-")
        if name not in MCU_CLASSES:
            raise ValueError(f"unknown MCU class {name!r}; known: {', '.join(sorted(MCU_CLASSES))}")
        return name

    def resolve(self) -> McuClass:
        base = MCU_CLASSES[self.preset]
        changes = {k: v for k, v in (("active_current_A", self.active_current), ("sleep_current_A", self.sleep_current),
                                     ("deepsleep_current_A", self.deepsleep_current)) if v is not None}
        if self.freq is not None:
            # a different nominal clock: active current in proportion, range widened to include it
            changes.update(freq_hz=self.freq, freq_min_hz=min(base.freq_min_hz, self.freq),
                           freq_max_hz=max(base.freq_max_hz, self.freq))
            if self.active_current is None:
                changes["active_current_A"] = base.active_current_A * self.freq / base.freq_hz
        return McuClass(**{**base.__dict__, **changes})


class AdcTable(Table):
    #: "storage" (the terminal voltage), another storage output ("cell0"...), or a rail name
    source: str = "storage"
    divider: float = Field(default=1.0, gt=0.0, le=1.0)
    full_scale: Optional[Quantity("voltage", positive=True)] = None
    bits: Optional[Count(8, 16)] = None


class FirmwareTable(Table):
    script: FilePath
    runner: str = "cpython"
    mcu: McuTable = Field(default_factory=McuTable)
    active_time: Quantity("time", non_negative=True, maximum=10.0) = 1e-3
    boot_time: Quantity("time", non_negative=True, maximum=60.0) = 0.0
    adc: dict[str, AdcTable] = Field(default_factory=dict)
    pins: dict[str, str] = Field(default_factory=dict)
    #: wall-clock time the firmware may run without a blocking call before it counts as hung
    wall_timeout: Quantity("time", positive=True, maximum=3600.0) = 10.0
    #: serial runner: "hil" (the board runs the firmware against the simulated cell) or
    #: "real-cell" (the board's real ADC and pins; the simulation follows its decisions)
    board_mode: Literal["hil", "real-cell"] = "hil"
    baudrate: Count(300, 10_000_000) = 115200
    #: machine.unique_id() as hex; default: derived from the scenario name
    unique_id: Optional[str] = Field(default=None, pattern=r"^(?:[0-9a-fA-F]{2}){1,16}$")

    @field_validator("script")
    @classmethod
    def _parses(cls, path):
        """The script must be Python text (MicroPython's syntax is a subset): a typo or a wrong file
        (``script = "/etc/passwd"``) is a scenario error, not a crash when the runner starts.
        ``ast.parse`` only parses; nothing is compiled or run here."""
        if os.path.getsize(path) > MAX_SCRIPT_BYTES:
            raise ValueError(f"{path} is larger than {MAX_SCRIPT_BYTES // 1_000_000} MB; not a firmware script")
        try:
            ast.parse(Path(path).read_bytes().decode("utf-8"), filename=path)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path} is not UTF-8 text (byte {exc.start})") from None
        except SyntaxError as exc:
            where = f" line {exc.lineno}" if exc.lineno else ""
            raise ValueError(f"{path}{where}: Python syntax error: {exc.msg}") from None
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            raise ValueError(f"{path} is not a Python script ({type(exc).__name__}: {exc})") from None
        return path

    @field_validator("runner")
    @classmethod
    def _runner(cls, value):
        if value in ("cpython", "micropython") or (value.startswith("serial:") and len(value) > len("serial:")):
            return value
        raise ValueError(f"unknown runner {value!r}; use one of {', '.join(RUNNERS)}")

    @field_validator("mcu", mode="before")
    @classmethod
    def _mcu(cls, value):
        if isinstance(value, str):
            name = value.removeprefix("mcu-")
            if name not in MCU_CLASSES:
                raise ValueError(f"unknown MCU class {value!r}; known: {', '.join(sorted(MCU_CLASSES))}")
            return McuTable(preset=name)
        return value

    @field_validator("adc", "pins")
    @classmethod
    def _ids(cls, table):
        for key in table:
            if not ident_ok(key):
                raise ValueError(f"id {key!r}: use up to 32 letters, digits, '_' or '.'")
        return table

    @model_validator(mode="after")
    def _one_pin_per_load(self):
        seen: dict[str, str] = {}
        for pin, load in self.pins.items():
            if load in seen:
                raise ValueError(f"load {load!r} is switched by pin {seen[load]} and pin {pin}")
            seen[load] = pin
        return self

    # --- building -----------------------------------------------------------------------------
    def build(self, ctx, components):
        from .sessions import make_channel

        src = ctx.scenario.source
        mcu_class = self.mcu.resolve()
        mcu = McuLoad("mcu", mcu_class)
        outputs = [o.name for o in ctx.storage.modal().outputs]
        adcs = []
        for ident, table in self.adc.items():
            key = f"firmware.adc.{ident}.source"
            bits = table.bits or mcu_class.adc_bits
            full_scale = table.full_scale or mcu_class.adc_full_scale_V
            if table.source in ("storage", "terminal"):
                adcs.append(AdcChannel(ident, table.divider, bits, full_scale))
            elif table.source in outputs:
                adcs.append(AdcChannel(ident, table.divider, bits, full_scale, output=table.source))
            elif table.source in ctx.rails:
                adcs.append(AdcChannel(ident, table.divider, bits, full_scale, rail=ctx.rails[table.source]))
            else:
                raise ScenarioError(src, key, f"unknown source {table.source!r}; use 'storage', a storage output "
                                    f"({', '.join(outputs)}) or a rail ({', '.join(sorted(ctx.rails))})")
        pins = {pin: ctx.components[load] for pin, load in self.pins.items()}
        uid = bytes.fromhex(self.unique_id) if self.unique_id else hashlib.sha256(
            ctx.scenario.name.encode()).digest()[:8]
        start = ctx.start
        rtc = (int((start.replace(tzinfo=start.tzinfo or dt.timezone.utc).timestamp())) * 10**9
               if start is not None else RTC_POWER_ON_EPOCH_NS)
        channel = make_channel(self, mcu_class)
        if self.runner.startswith("serial:") and self.board_mode == "real-cell":
            from .realcell import RealCellRunner

            return [mcu, RealCellRunner("firmware", channel, mcu, adcs, pins, self.wall_timeout, self.runner)]
        runner = FirmwareRunner("firmware", channel, mcu, adcs, pins, self.active_time, self.boot_time,
                                self.wall_timeout, uid, rtc, self.runner)
        return [mcu, runner]


def check_firmware(scenario) -> None:
    """Cross-table checks: every pinned load exists; no [[load]] is called "mcu" or "firmware"."""
    fw = scenario.firmware
    if fw is None:
        return
    names = [name for name, _ in scenario.loads]
    for kind, items in (("load", names), ("harvester", [name for name, _ in scenario.harvesters])):
        for reserved in ("mcu", "firmware"):
            if reserved in items:
                raise ScenarioError(None, f"{kind}[{items.index(reserved)}].name",
                                    f"{reserved!r} is the name of the firmware's own component; rename the {kind}")
    for pin, load in fw.pins.items():
        if load not in names:
            raise ScenarioError(None, f"firmware.pins.{pin}",
                                f"no [[load]] named {load!r} (loads: {', '.join(names) or 'none'})")


register_firmware_table(FirmwareTable)
register_scenario_check(check_firmware)
register_presets()
