"""Bluetooth LE events (nRF52-class SoC): advertising and connection events as rail states.

Advertising event (models-and-numerics.md §4.1, "simulator profile"): HFXO start-up, CPU wake,
then on each of the three advertising channels a transmission followed by a gap (or, when
connectable, a receive window for a scan or connect request), then post-processing::

    [t_hfxo @ I_hfxo] [t_wake @ I_cpu] 3 × ([t_tx @ I_tx(P)] [t_rx @ I_rx if connectable] [t_gap @ I_cpu]) [t_post @ I_cpu]

The transmission lasts ``t_tx = t_tx_overhead + (16 + L)·8 µs``: an ADV_IND / ADV_NONCONN_IND PDU
on air at 1 Mb/s is preamble (1) + access address (4) + header (2) + AdvA (6) + AdvData (L ≤ 31) +
CRC (3) bytes. With the reference profile (0.3 ms wake, 0.4 ms TX at 31 B, 0.15 ms gaps, 0.2 ms
post at 3 mA CPU and 5.3 mA TX) the HFXO start-up state is calibrated so that the default event
reproduces the Laird BL652 measurement: 4.377 ms at 2.43 mA mean, 10.6 µC per event.

Advertising intervals get a random advDelay of 0–10 ms per event (Bluetooth Core spec); its mean
(5 ms) is added to the interval, which keeps the average current exact.

Connection event (peripheral, one exchange per event): HFXO start-up, wake, receive the central's
packet (``(10 + L_rx)·8 µs`` plus a receive margin), T_IFS = 150 µs, transmit ``(10 + L_tx)·8 µs``
plus the TX overhead, post-processing.
"""
from __future__ import annotations

from .states import LoadEvent, RailState

BYTE_TIME_S = 8e-6  # 1 Mb/s PHY
ADV_OVERHEAD_BYTES = 16  # preamble 1 + access address 4 + header 2 + AdvA 6 + CRC 3
DATA_OVERHEAD_BYTES = 10  # preamble 1 + access address 4 + header 2 + CRC 3
T_IFS_S = 150e-6
ADV_CHANNELS = 3


def advertising_event(payload_bytes: int, tx_current_A: float, rx_current_A: float, cpu_current_A: float,
                      hfxo_time_s: float, hfxo_current_A: float, wake_time_s: float, gap_time_s: float,
                      post_time_s: float, tx_overhead_s: float, sleep_current_A: float,
                      connectable: bool = False, rx_window_s: float = 0.0, channels: int = ADV_CHANNELS) -> LoadEvent:
    """One advertising event on ``channels`` channels (rail states, see the module docstring)."""
    if not 0 <= payload_bytes <= 31:
        raise ValueError(f"legacy advertising data is 0..31 bytes, got {payload_bytes}")
    t_tx = tx_overhead_s + (ADV_OVERHEAD_BYTES + payload_bytes) * BYTE_TIME_S
    states = [RailState(hfxo_time_s, hfxo_current_A, label="hfxo"), RailState(wake_time_s, cpu_current_A, label="wake")]
    for _ in range(channels):
        states.append(RailState(t_tx, tx_current_A, label="tx"))
        if connectable:
            states.append(RailState(rx_window_s, rx_current_A, label="rx"))
        states.append(RailState(gap_time_s, cpu_current_A, label="gap"))
    states.append(RailState(post_time_s, cpu_current_A, label="post"))
    return LoadEvent(tuple(s for s in states if s.duration_s > 0), RailState(0.0, sleep_current_A, label="sleep"))


def connection_event(tx_payload_bytes: int, rx_payload_bytes: int, tx_current_A: float, rx_current_A: float,
                     cpu_current_A: float, hfxo_time_s: float, hfxo_current_A: float, wake_time_s: float,
                     post_time_s: float, tx_overhead_s: float, rx_margin_s: float, sleep_current_A: float) -> LoadEvent:
    """One peripheral connection event: receive, T_IFS, transmit."""
    for n in (tx_payload_bytes, rx_payload_bytes):
        if not 0 <= n <= 251:
            raise ValueError(f"a data PDU carries 0..251 bytes, got {n}")
    t_rx = rx_margin_s + (DATA_OVERHEAD_BYTES + rx_payload_bytes) * BYTE_TIME_S
    t_tx = tx_overhead_s + (DATA_OVERHEAD_BYTES + tx_payload_bytes) * BYTE_TIME_S
    states = (RailState(hfxo_time_s, hfxo_current_A, label="hfxo"), RailState(wake_time_s, cpu_current_A, label="wake"),
              RailState(t_rx, rx_current_A, label="rx"), RailState(T_IFS_S, cpu_current_A, label="ifs"),
              RailState(t_tx, tx_current_A, label="tx"), RailState(post_time_s, cpu_current_A, label="post"))
    return LoadEvent(tuple(s for s in states if s.duration_s > 0), RailState(0.0, sleep_current_A, label="sleep"))
