"""Scenario tables of the component library: ``mcu``, ``ble``, ``lora``, ``bme280`` and ``led``.

A type without ``preset`` takes its defaults from the library's reference preset (``ble`` from
``nrf52832-ble-adv``, ``lora`` from ``sx1276-lora-uplink``, ``bme280`` from ``bme280-forced-1hz``,
``led`` from ``led-red``); explicit keys override them. The figures and their sources are in
``loads/presets/*.toml`` (``sysim presets NAME``).
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BeforeValidator, Field, model_validator

from sysim.scenario.fields import Count, Quantity
from sysim.scenario.registry import PRESETS, register_load

from . import ble, lora
from .config import LoadCommon
from .led import LedModel
from .states import LoadEvent, RailState, Timeline


def _dbm(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a power level in dBm")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):  # nan passed the table-range check (every comparison is False)
            raise ValueError(f"expected a finite power level in dBm, got {value!r}")
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([-+]?\d+(?:\.\d*)?)\s*dBm\s*", value)
        if match:
            return float(match.group(1))
    raise ValueError(f"expected a power level like 0 or \"4 dBm\", got {value!r}")


#: a transmit power level in dBm (a number or "4 dBm")
Dbm = Annotated[float, BeforeValidator(_dbm)]
Current = Quantity("current", non_negative=True)
Time = Quantity("time", non_negative=True)


def _with_defaults(preset_name: str):
    """A before-validator merging the reference preset's values under the given keys."""

    def merge(cls, data):
        if isinstance(data, dict) and data.get("preset") is None:
            preset = PRESETS.get(preset_name)
            if preset is not None:
                data = {**{k: v for k, v in preset.values.items() if k != "type"}, **data}
        return data

    return model_validator(mode="before")(classmethod(merge))


class PeriodicMixin:
    """``interval`` and ``offset`` of a load repeating one event."""

    def period(self) -> float:
        return self.interval

    def timeline(self, ctx) -> Timeline:
        return Timeline.periodic(self.event(ctx), self.period(), self.offset)


# --- microcontrollers -------------------------------------------------------------------------
class McuTable(LoadCommon):
    """An MCU: active current per MHz at ``clock``, sleep with RTC, off; constant in ``state`` or
    awake for ``active_time`` every ``period``."""

    clock: Quantity("frequency", positive=True)
    max_clock: Optional[Quantity("frequency", positive=True)] = None
    active_current_per_mhz: Optional[Quantity("current_per_frequency", non_negative=True)] = None
    active_current: Optional[Current] = None
    sleep_current: Current
    off_current: Current = 0.0
    state: Literal["sleep", "active", "off"] = "sleep"
    period: Optional[Quantity("time", positive=True)] = None
    active_time: Optional[Quantity("time", positive=True)] = None
    offset: Time = 0.0
    #: the sleep and off currents double every this many kelvin above reference_temperature
    #: (a temperature difference, e.g. "34 K"); none: independent of temperature
    sleep_current_doubling: Optional[Quantity("temperature", positive=True)] = None
    reference_temperature: Quantity("temperature", positive=True) = 298.15

    @model_validator(mode="after")
    def _check(self):
        if (self.active_current is None) == (self.active_current_per_mhz is None):
            raise ValueError("give active_current_per_mhz (scaled by clock) or active_current")
        if self.max_clock is not None and self.clock > self.max_clock * (1 + 1e-12):
            raise ValueError(f"clock {self.clock / 1e6:g} MHz is above this MCU's maximum ({self.max_clock / 1e6:g} MHz)")
        if (self.period is None) != (self.active_time is None):
            raise ValueError("give both period and active_time for a periodic wake-up, or neither")
        if self.period is not None and self.active_time > self.period:
            raise ValueError("active_time is longer than the period")
        return self

    def active_A(self) -> float:
        """Active current (A): ``active_current`` or ``active_current_per_mhz × clock``."""
        if self.active_current is not None:
            return self.active_current
        return self.active_current_per_mhz * self.clock

    def floor_state(self) -> RailState:
        current = {"sleep": self.sleep_current, "active": self.active_A(), "off": self.off_current}[self.state]
        return RailState(0.0, current, label=self.state, thermal=self.state != "active")

    def event(self, ctx) -> LoadEvent:
        states = (RailState(self.active_time, self.active_A(), label="active"),) if self.active_time else ()
        return LoadEvent(states, RailState(0.0, self.sleep_current, label="sleep", thermal=True))

    def temperature_factor(self):
        """``2^((T - T_ref)/doubling)`` for the sleep and off currents (models-and-numerics.md §4.4:
        sleep currents rise 3-10x from 25 °C to 85 °C)."""
        if self.sleep_current_doubling is None:
            return None
        doubling, t_ref = self.sleep_current_doubling, self.reference_temperature
        # half-kelvin steps from the reference: a temperature trace reuses a bounded set of schedules
        return lambda kelvin: 2.0 ** (round((kelvin - t_ref) * 2.0) / 2.0 / doubling)

    def timeline(self, ctx) -> Timeline:
        if self.period is None:
            return Timeline.constant(self.floor_state())
        return Timeline.periodic(self.event(ctx), self.period, self.offset)


# --- Bluetooth LE -----------------------------------------------------------------------------
class BleTable(PeriodicMixin, LoadCommon):
    """BLE advertising or connection events of an nRF52-class SoC (see :mod:`loads.ble`)."""

    preset_defaults = _with_defaults("nrf52832-ble-adv")
    mode: Literal["advertising", "connection"] = "advertising"
    interval: Quantity("time", positive=True)
    adv_delay: Time = 0.0
    payload: Count(0, 251) = 31
    rx_payload: Count(0, 251) = 0
    connectable: bool = False
    tx_power: Dbm = 0.0
    tx_current: list[tuple[Dbm, Current]] = Field(min_length=1)
    rx_current: Current
    cpu_current: Current
    hfxo_time: Time
    hfxo_current: Current
    wake_time: Time
    gap_time: Time
    post_time: Time
    tx_overhead: Time
    rx_window: Time = 0.0
    rx_margin: Time = 0.0
    sleep_current: Current
    offset: Time = 0.0

    @model_validator(mode="after")
    def _check(self):
        if self.mode == "advertising":
            if self.payload > 31:
                raise ValueError(f"legacy advertising data is at most 31 bytes, got payload = {self.payload}")
            if not 20e-3 <= self.interval <= 10485.759375:
                raise ValueError("the advertising interval must be 20 ms..10485.76 s (Bluetooth Core spec)")
        elif not 7.5e-3 <= self.interval <= 4.0:
            raise ValueError("the connection interval must be 7.5 ms..4 s (Bluetooth Core spec)")
        lora.tx_current_at(self.tx_power, self.tx_current)  # tx_power inside the table
        return self

    def period(self) -> float:
        return self.interval + (self.adv_delay if self.mode == "advertising" else 0.0)

    def event(self, ctx) -> LoadEvent:
        i_tx = lora.tx_current_at(self.tx_power, self.tx_current)
        if self.mode == "advertising":
            return ble.advertising_event(self.payload, i_tx, self.rx_current, self.cpu_current, self.hfxo_time,
                                         self.hfxo_current, self.wake_time, self.gap_time, self.post_time,
                                         self.tx_overhead, self.sleep_current, self.connectable, self.rx_window)
        return ble.connection_event(self.payload, self.rx_payload, i_tx, self.rx_current, self.cpu_current,
                                    self.hfxo_time, self.hfxo_current, self.wake_time, self.post_time,
                                    self.tx_overhead, self.rx_margin, self.sleep_current)


# --- LoRa -------------------------------------------------------------------------------------
def _coding_rate(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a coding rate like \"4/5\"")
    if isinstance(value, int) and 1 <= value <= 4:
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*4\s*/\s*([5-8])\s*", value)
        if match:
            return int(match.group(1)) - 4
    raise ValueError(f"expected a coding rate \"4/5\"..\"4/8\" (or 1..4), got {value!r}")


class LoraTable(PeriodicMixin, LoadCommon):
    """SX127x class-A uplinks every ``interval`` (airtime by the Semtech formula, :mod:`loads.lora`)."""

    preset_defaults = _with_defaults("sx1276-lora-uplink")
    interval: Quantity("time", positive=True)
    spreading_factor: Count(6, 12)
    bandwidth: Quantity("frequency", positive=True)
    coding_rate: Annotated[int, BeforeValidator(_coding_rate)] = 1
    payload: Count(0, 255)
    preamble: Count(6, 65535) = 8
    crc: bool = True
    implicit_header: bool = False
    low_data_rate_optimize: Union[bool, Literal["auto"]] = "auto"
    tx_power: Dbm
    tx_current: list[tuple[Dbm, Current]] = Field(min_length=1)
    rx_current: Current
    sleep_current: Current
    rx_windows: Count(0, 2) = 2
    rx1_delay: Quantity("time", positive=True) = 1.0
    rx2_delay: Optional[Quantity("time", positive=True)] = None
    rx1_spreading_factor: Optional[Count(6, 12)] = None
    rx2_spreading_factor: Count(6, 12) = 12
    rx2_bandwidth: Quantity("frequency", positive=True) = 125e3
    rx_window_symbols: Count(1, 1023) = 8
    offset: Time = 0.0

    @model_validator(mode="after")
    def _check(self):
        lora.check_settings(self.spreading_factor, self.bandwidth, self.coding_rate, self.payload, self.preamble)
        lora.check_settings(self.rx2_spreading_factor, self.rx2_bandwidth, 1, 0, 8)
        if self.spreading_factor == 6 and not self.implicit_header:
            raise ValueError("spreading factor 6 needs implicit_header = true (SX1276 datasheet)")
        lora.tx_current_at(self.tx_power, self.tx_current)
        if self.rx2_delay is not None and self.rx2_delay <= self.rx1_delay:
            raise ValueError("rx2_delay must be later than rx1_delay")
        if self.event(None).duration_s > self.interval:
            raise ValueError(f"one uplink with its receive windows lasts {self.event(None).duration_s:g} s, "
                             f"longer than the interval ({self.interval:g} s)")
        return self

    def airtime(self) -> float:
        ldro = None if self.low_data_rate_optimize == "auto" else bool(self.low_data_rate_optimize)
        return lora.airtime(self.payload, self.spreading_factor, self.bandwidth, self.coding_rate, self.preamble,
                            self.crc, self.implicit_header, ldro)

    def event(self, ctx) -> LoadEvent:
        sf1 = self.rx1_spreading_factor or self.spreading_factor
        rx1 = self.rx_window_symbols * lora.symbol_time(sf1, self.bandwidth)
        rx2 = self.rx_window_symbols * lora.symbol_time(self.rx2_spreading_factor, self.rx2_bandwidth)
        rx2_delay = self.rx2_delay if self.rx2_delay is not None else self.rx1_delay + 1.0
        return lora.class_a_uplink(self.airtime(), lora.tx_current_at(self.tx_power, self.tx_current), self.rx_current,
                                   self.sleep_current, self.rx_windows, self.rx1_delay, rx2_delay, rx1, rx2)


# --- sensors ----------------------------------------------------------------------------------
Oversampling = Literal[0, 1, 2, 4, 8, 16]


class Bme280Table(PeriodicMixin, LoadCommon):
    """BME280-class sensor in forced mode: one measurement every ``interval``.

    Measurement time (Bosch DS Appendix B, typical): ``1 + [2·osrs_t] + [2·osrs_p + 0.5] +
    [2·osrs_h + 0.5]`` ms, a bracket dropping out when its channel is skipped (0). The start-up
    millisecond and the temperature conversion run at ``temperature_current``, the others at their
    own currents; the sensor sleeps at ``sleep_current`` in between.
    """

    preset_defaults = _with_defaults("bme280-forced-1hz")
    interval: Quantity("time", positive=True)
    osrs_t: Oversampling = 1
    osrs_p: Oversampling = 1
    osrs_h: Oversampling = 1
    temperature_current: Current
    pressure_current: Current
    humidity_current: Current
    sleep_current: Current
    offset: Time = 0.0

    def measurement_time(self) -> float:
        """Typical measurement time (s)."""
        return sum(d for d, _ in self._sections())

    def _sections(self) -> list[tuple[float, float]]:
        ms = 1e-3
        out = [(1.0 * ms + 2.0 * self.osrs_t * ms, self.temperature_current)]
        if self.osrs_p:
            out.append(((2.0 * self.osrs_p + 0.5) * ms, self.pressure_current))
        if self.osrs_h:
            out.append(((2.0 * self.osrs_h + 0.5) * ms, self.humidity_current))
        return out

    def event(self, ctx) -> LoadEvent:
        labels = ["temperature", "pressure" if self.osrs_p else "humidity", "humidity"]
        return LoadEvent(tuple(RailState(d, i, label=lab) for (d, i), lab in zip(self._sections(), labels)),
                         RailState(0.0, self.sleep_current, label="sleep"))


# --- LEDs -------------------------------------------------------------------------------------
class LedTable(LoadCommon):
    """An LED with its series resistances (Shockley + Lambert W, :mod:`loads.led`), on for ever or
    for ``on_time`` every ``period``."""

    preset_defaults = _with_defaults("led-red")
    saturation_current: Quantity("current", positive=True)
    ideality: float = Field(gt=0.5, le=10.0)
    series_resistance: Quantity("resistance", non_negative=True) = 0.0
    #: the external series resistor (required: it sets the current)
    resistor: Quantity("resistance", non_negative=True)
    temperature: Quantity("temperature", positive=True) = 298.15
    period: Optional[Quantity("time", positive=True)] = None
    on_time: Optional[Quantity("time", positive=True)] = None
    offset: Time = 0.0

    @model_validator(mode="after")
    def _check(self):
        if (self.period is None) != (self.on_time is None):
            raise ValueError("give both period and on_time to blink, or neither for always on")
        if self.period is not None and self.on_time > self.period:
            raise ValueError("on_time is longer than the period")
        return self

    def model(self) -> LedModel:
        return LedModel(self.saturation_current, self.ideality, self.series_resistance + self.resistor, self.temperature)

    def _on(self, duration: float) -> RailState:
        return RailState(duration, current_of_voltage=self.model(), label="on")

    def event(self, ctx) -> LoadEvent:
        return LoadEvent((self._on(self.on_time),) if self.on_time else ())

    def timeline(self, ctx) -> Timeline:
        if self.period is None:
            return Timeline.constant(self._on(0.0))
        return Timeline.periodic(self.event(ctx), self.period, self.offset)


register_load("mcu", McuTable)
register_load("ble", BleTable)
register_load("lora", LoraTable)
register_load("bme280", Bme280Table)
register_load("led", LedTable)
