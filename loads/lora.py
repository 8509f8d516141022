"""LoRa (Semtech SX127x) time on air and the class-A uplink event.

Time on air, Semtech SX1276 datasheet §4.1.1.7 / AN1200.13 (models-and-numerics.md §4.2)::

    T_sym = 2^SF / BW
    T_preamble = (n_preamble + 4.25)·T_sym
    n_payload = 8 + max(ceil((8·PL - 4·SF + 28 + 16·CRC - 20·IH) / (4·(SF - 2·DE)))·(CR + 4), 0)
    ToA = T_preamble + n_payload·T_sym

with PL the PHY payload in bytes, CR = 1..4 for coding rates 4/5..4/8, IH = 1 for an implicit
header and DE = 1 with low-data-rate optimisation (on by default when T_sym > 16 ms: SF11 and SF12
at 125 kHz). Anchors (PL = 13 B, CR 4/5, 8-symbol preamble, CRC on, 125 kHz): SF7 46.3 ms, SF9
164.9 ms (the AN1200.13 sheet), SF12 1155 ms.

Class-A uplink (LoRaWAN): transmit, sleep, open RX1 ``rx1_delay`` after the end of the uplink and
RX2 ``rx2_delay`` after it, each for ``rx_window_symbols`` symbols at the window's data rate, then
sleep. A downlink (which would lengthen a window and skip RX2) is not modelled.
"""
from __future__ import annotations

import bisect
from fractions import Fraction

from .states import LoadEvent, RailState

#: the SX127x LoRa bandwidths (Hz)
BANDWIDTHS_HZ = (7.8e3, 10.4e3, 15.6e3, 20.8e3, 31.25e3, 41.7e3, 62.5e3, 125e3, 250e3, 500e3)
#: symbol time above which low-data-rate optimisation is mandated (s)
LDRO_SYMBOL_TIME_S = 16e-3


def symbol_time(spreading_factor: int, bandwidth_Hz: float) -> float:
    """``T_sym = 2^SF / BW`` (s)."""
    return 2 ** spreading_factor / bandwidth_Hz


def low_data_rate_optimize_auto(spreading_factor: int, bandwidth_Hz: float) -> bool:
    """Whether the low-data-rate optimisation is required (``T_sym > 16 ms``)."""
    return symbol_time(spreading_factor, bandwidth_Hz) > LDRO_SYMBOL_TIME_S


def payload_symbols(payload_bytes: int, spreading_factor: int, coding_rate: int = 1, crc: bool = True,
                    implicit_header: bool = False, low_data_rate_optimize: bool = False) -> int:
    """Number of payload symbols ``n_payload`` (including the 8 symbols of the header block)."""
    de = 1 if low_data_rate_optimize else 0
    numerator = 8 * payload_bytes - 4 * spreading_factor + 28 + 16 * int(crc) - 20 * int(implicit_header)
    denominator = 4 * (spreading_factor - 2 * de)
    blocks = -(-numerator // denominator)  # exact integer ceiling
    return 8 + max(blocks * (coding_rate + 4), 0)


def airtime(payload_bytes: int, spreading_factor: int, bandwidth_Hz: float, coding_rate: int = 1,
            preamble_symbols: int = 8, crc: bool = True, implicit_header: bool = False,
            low_data_rate_optimize: bool | None = None) -> float:
    """Time on air (s) of one LoRa packet (Semtech formula above).

    ``coding_rate`` is 1..4 for 4/5..4/8; ``low_data_rate_optimize=None`` applies it when required.
    """
    check_settings(spreading_factor, bandwidth_Hz, coding_rate, payload_bytes, preamble_symbols)
    if low_data_rate_optimize is None:
        low_data_rate_optimize = low_data_rate_optimize_auto(spreading_factor, bandwidth_Hz)
    n_pay = payload_symbols(payload_bytes, spreading_factor, coding_rate, crc, implicit_header, low_data_rate_optimize)
    t_sym = Fraction(2 ** spreading_factor) / Fraction(bandwidth_Hz)
    return float((Fraction(preamble_symbols) + Fraction(17, 4) + n_pay) * t_sym)


def check_settings(spreading_factor: int, bandwidth_Hz: float, coding_rate: int, payload_bytes: int,
                   preamble_symbols: int) -> None:
    if not 6 <= spreading_factor <= 12:
        raise ValueError(f"spreading factor must be 6..12, got {spreading_factor}")
    if not any(abs(bandwidth_Hz - b) <= 1e-3 * b for b in BANDWIDTHS_HZ):
        raise ValueError(f"bandwidth {bandwidth_Hz / 1e3:g} kHz is not an SX127x LoRa bandwidth "
                         f"({', '.join(f'{b / 1e3:g}' for b in BANDWIDTHS_HZ)} kHz)")
    if coding_rate not in (1, 2, 3, 4):
        raise ValueError(f"coding rate must be 4/5..4/8 (1..4), got {coding_rate}")
    if not 0 <= payload_bytes <= 255:
        raise ValueError(f"payload must be 0..255 bytes, got {payload_bytes}")
    if not 6 <= preamble_symbols <= 65535:
        raise ValueError(f"preamble must be 6..65535 symbols, got {preamble_symbols}")


def tx_current_at(tx_power_dBm: float, table: list[tuple[float, float]]) -> float:
    """TX supply current (A) at ``tx_power_dBm`` from ``[(dBm, A), ...]``: exact at the table's
    points, linear in dBm between them; outside the table is an error."""
    points = sorted(table)
    powers = [p for p, _ in points]
    if not points or tx_power_dBm < powers[0] - 1e-9 or tx_power_dBm > powers[-1] + 1e-9:
        raise ValueError(f"tx_power {tx_power_dBm:g} dBm is outside the tx_current table "
                         f"({powers[0]:g}..{powers[-1]:g} dBm)" if points else "the tx_current table is empty")
    k = bisect.bisect_left(powers, tx_power_dBm)
    if k < len(points) and abs(powers[k] - tx_power_dBm) <= 1e-9:
        return points[k][1]
    (p0, i0), (p1, i1) = points[k - 1], points[k]
    return i0 + (i1 - i0) * (tx_power_dBm - p0) / (p1 - p0)


def class_a_uplink(toa_s: float, tx_current_A: float, rx_current_A: float, sleep_current_A: float,
                   rx_windows: int = 2, rx1_delay_s: float = 1.0, rx2_delay_s: float = 2.0,
                   rx1_window_s: float = 0.0, rx2_window_s: float = 0.0) -> LoadEvent:
    """One class-A uplink: TX for the time on air, then up to two receive windows."""
    states = [RailState(toa_s, tx_current_A, label="tx")]
    if rx_windows >= 1:
        states += [RailState(rx1_delay_s, sleep_current_A, idle=True, label="wait"),
                   RailState(rx1_window_s, rx_current_A, label="rx1")]
    if rx_windows >= 2:
        gap = rx2_delay_s - rx1_delay_s - rx1_window_s
        if gap < 0:
            raise ValueError("the RX1 window overlaps RX2; lengthen rx2_delay")
        states += [RailState(gap, sleep_current_A, idle=True, label="wait"),
                   RailState(rx2_window_s, rx_current_A, label="rx2")]
    return LoadEvent(tuple(s for s in states if s.duration_s > 0), RailState(0.0, sleep_current_A, label="sleep"))
