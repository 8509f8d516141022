"""A harvesting PMIC (TI BQ25570 / e-peas AEM10941 / ADI ADP5091 style) as one node component.

State machine on the storage voltage (models-and-numerics.md §3.3), each threshold an exact event
(``watches``) on the storage's open-circuit voltage: the PMIC's comparators are sampled and
filtered (the BQ25570 samples VSTOR every 64 ms), so they act on the store's level, not on the µs
ESR dip of a load pulse.

* ``cold_start`` (storage below ``v_chgen``): if the source reaches the cold-start input voltage
  and power, the cold-start circuit charges the store at ``cold_start_efficiency``; no MPPT, no
  quiescent draw from the store. Leaves at ``v_chgen`` rising; returns at ``v_chgen - hysteresis``.
* ``charging``: the boost charger regulates its input at ``mppt_ratio × V_oc`` (fractional open
  circuit voltage). Every ``mppt_period`` it opens the input for ``mppt_sample_time`` to sample
  V_oc: nothing is harvested then (a :class:`PeriodicSchedule` phase with zero harvest, the lost
  harvest booked as ``lost/mppt_sampling/<pmic>``). Otherwise it delivers
  ``η_boost(V_in, P_in)·P_in`` as a constant-power draw; ``(1/η - 1)`` of it is booked as
  ``lost/converter/<pmic>``. The quiescent current is drawn from the store whenever the boost is
  not converting (sampling, dark, input below its minimum, over-voltage) and also while converting
  unless the efficiency table already includes it (``efficiency_includes_quiescent``, true for
  tables measured at the storage terminal as datasheets do).
* ``full`` (over-voltage ``v_ov`` reached): with ``over_voltage = "hold"`` (default) the charger's
  fast on/off at VBAT_OV is represented by its average, the harvest throttled to exactly what holds
  the store level ("OV clamp", §3.3; sysim.engine.hold), until the harvest can no longer hold it and
  the store falls by ``v_ov_hysteresis``; with ``"stop"`` the charger stops outright until then
  (a sawtooth of one full charge and discharge of the hysteresis band per cycle).
* Power good (``v_pg_on`` rising / ``v_pg_off`` falling, with hysteresis) switches the PMIC's
  output rail (``rail = "pmic"`` loads); an optional buck converter turns the rail's load into
  storage-side power with its efficiency (:mod:`harvesters.pmic_rail`).

Light or trace segments end the engine's regime at their boundaries (:meth:`Pmic.next_change`),
so the regime (and its MPPT cycle merged with the loads' duty cycles) is rebuilt exactly there.
A dark segment after a dark one is no boundary. While the store is held full, a light change
only changes the bookkeeping as long as the new level still covers what the hold delivers, so
such boundaries are no boundaries either: the PMIC then draws, over the whole run of segments,
the smallest of their available powers (throttled by the engine to the same delivered power) and
books its harvest, converter loss and MPPT sampling loss with the segments' time-weighted
efficiencies and input powers, which is exact because the delivered power is constant
(:meth:`Pmic.held_span`). A day of minute light held at the over-voltage level is then a few
regimes instead of hundreds.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from sysim.engine.component import Component, ComponentWatch
from sysim.engine.draws import Draw
from sysim.engine.schedule import ConstantSchedule, PeriodicSchedule, Schedule

from .inputs import InputSegments, combine
from .pmic_tables import BoostEfficiency, BuckEfficiency

STATES = ("cold_start", "charging", "full")

#: a held run of light segments needs each segment's available power to exceed what the hold
#: delivers by this fraction (the engine's throttle then stays below 1 in every segment)
HELD_POWER_MARGIN = 1e-3


@dataclass(frozen=True)
class PmicParameters:
    boost: BoostEfficiency
    cold_start_voltage: float = 0.33        # V, minimum input voltage for cold start
    cold_start_power: float = 5e-6          # W, minimum input power for cold start
    cold_start_efficiency: float = 0.05     # fraction
    v_chgen: float = 1.73                   # V, storage voltage that ends cold start
    v_chgen_hysteresis: float = 0.05        # V
    input_voltage_min: float = 0.1          # V, once started
    input_power_min: float = 0.0            # W, once started
    mppt_ratio: float = 0.8
    mppt_period: float = 16.0               # s
    mppt_sample_time: float = 0.256         # s
    quiescent_current: float = 488e-9       # A
    efficiency_includes_quiescent: bool = True
    v_ov: float = 4.2                       # V
    v_ov_hysteresis: float = 0.02           # V
    over_voltage: str = "hold"              # "hold" | "stop"
    v_pg_on: float | None = None            # V, rising
    v_pg_off: float | None = None           # V, falling
    buck_voltage: float | None = None       # V
    buck: BuckEfficiency | None = None


class Pmic(Component):
    kind = "source"

    def __init__(self, name: str, params: PmicParameters, inputs: list[tuple[str, InputSegments]]):
        self.name, self.p = name, params
        self.input_names = [n for n, _ in inputs]
        self.inputs = combine([seg for _, seg in inputs])
        self._shares = self._harvester_shares(inputs)
        self._times = [float(t) for t in self.inputs.times_s]
        self._change_times = [self._times[k] for k in self._changes()]
        self._segments: tuple | None = None     # (capacity W, 1/η, harvester shares) per segment
        self._held_need_W: float | None = None  # what the hold delivers (W), told by the engine
        self._span: tuple | None = None         # (t, need, run) of the last held_span computed
        self._run: _HeldRun | None = None       # the held run issued last
        self._run_in_use: _HeldRun | None = None  # the held run in the present regime
        self.state = "charging"
        self.power_good = params.v_pg_on is None
        self._cache: dict = {}
        self._sim = None
        self._pg_since = 0.0
        self.pg_time = 0.0
        self.pg_off_events = 0
        self.cold_start_end_s: float | None = None

    # --- inputs ------------------------------------------------------------------------------
    def _harvester_shares(self, inputs) -> list[tuple[tuple[str, float], ...]]:
        """Per combined segment, each harvester's fraction of the input power (ledger split)."""
        if len(inputs) == 1:
            return [((inputs[0][0], 1.0),)] * len(self.inputs)
        out = []
        for k, t in enumerate(self.inputs.times_s):
            total = self.inputs.p_in[k]
            parts = []
            for name, seg in inputs:
                j = int(np.searchsorted(seg.times_s, t, side="right")) - 1
                p = seg.p_in[j] if j >= 0 else 0.0
                parts.append((name, p / total if total > 0 else 1.0 / len(inputs)))
            out.append(tuple(parts))
        return out

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, sim) -> None:
        self._sim = sim
        v = sim.stepper.open_circuit()
        p = self.p
        self.state = "cold_start" if v < p.v_chgen else ("full" if v >= p.v_ov else "charging")
        self.power_good = p.v_pg_on is None or v >= p.v_pg_on
        self._pg_since = 0.0
        self._held_need_W = None

    def _changes(self) -> list[int]:
        """Segments whose start changes what the PMIC does. A dark segment after a dark one
        (no input power in either) draws the same in every state and reports the same input,
        so it is no boundary: a night of hourly or minute light is then one regime for the
        engine instead of one per data row."""
        p_in = self.inputs.p_in
        dark = p_in <= 0.0
        same = dark[1:] & dark[:-1] & (p_in[1:] == p_in[:-1])
        return [k for k in range(1, len(self._times)) if not same[k - 1]]

    @property
    def segment(self) -> int:
        """The input segment at the simulation's present time (a sample's time while recording)."""
        return self.segment_at(self._sim.now) if self._sim is not None else 0

    def segment_at(self, t: float) -> int:
        return max(bisect.bisect_right(self._times, t) - 1, 0)

    def next_change(self, t: float) -> float:
        """The next time (s) after ``t`` at which what the PMIC draws may change."""
        run = self.held_span(t)
        if run is not None:
            return run.t_end
        i = bisect.bisect_right(self._change_times, t)
        return self._change_times[i] if i < len(self._change_times) else math.inf

    # --- holding a full store across light changes -----------------------------------------
    def capacity_W(self, k: int) -> float:
        """Power (W) the boost charger can deliver to the store in segment ``k`` while charging."""
        return float(self._segment_arrays()[0][k])

    def _segment_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per input segment, made once for the whole input (a year of minute light is 525,600
        segments; held runs look at thousands of them): the power the boost can deliver (W), the
        inverse of its efficiency, and each harvester's share of the input power."""
        if self._segments is None:
            p = self.p
            v_in, p_in = np.asarray(self.inputs.v_in, dtype=float), np.asarray(self.inputs.p_in, dtype=float)
            eta = p.boost.many(v_in, p_in)
            works = ~((v_in < p.input_voltage_min) | (p_in <= 0.0) | (p_in < p.input_power_min))
            capacity = np.where(works, np.maximum(eta, 0.0) * p_in, 0.0)
            with np.errstate(divide="ignore"):
                inv_eta = np.where(eta > 0.0, 1.0 / np.where(eta > 0.0, eta, 1.0), np.inf)
            shares = np.ones((len(p_in), 1)) if len(self.input_names) == 1 else \
                np.array([[f for _, f in parts] for parts in self._shares])
            self._segments = (capacity, inv_eta, shares)
        return self._segments

    def _held_until(self, k0: int, floor: float) -> int:
        """The first segment after ``k0`` that cannot deliver ``floor`` W or starts at or after
        the run's end, searched in growing windows (a held summer day is hundreds of minutes)."""
        capacity = self._segment_arrays()[0]
        stop = bisect.bisect_left(self._times, self._sim.t_end)
        k, width = k0 + 1, 64
        while k < stop:
            window = capacity[k:min(stop, k + width)]
            short = np.flatnonzero(window < floor)
            if short.size:
                return k + int(short[0])
            k += len(window)
            width *= 4
        return max(stop, k0 + 1)

    def on_hold_factor(self, sim, channels, factor: float) -> bool:
        """The engine's throttle for the held store: remember the power it delivers. True when the
        held run in ``channels`` can no longer hold the store (its weakest segment would need a
        throttle above 1/(1 + HELD_POWER_MARGIN)): the engine then asks again."""
        run = self._run
        boost = [d for d in channels if d.owner == self.name and d.label == "boost"]
        in_use = run is not None and len(boost) == 1 and boost[0] is run.boost
        if self.state == "full" and factor < 1.0 and len(boost) == 1:
            self._held_need_W = factor * -boost[0].power_W
            if in_use and factor * (1.0 + HELD_POWER_MARGIN) > 1.0:
                # this regime (a load burst) needs more than the run's weakest segment gives: it
                # takes its own segment's schedule; the run stays for the regimes after it
                self._held_need_W = None
                return True
            return False
        self._held_need_W = None
        return in_use

    def held_span(self, t: float) -> "_HeldRun | None":
        """The held run of light segments from ``t``: every segment in it covers what the hold
        delivers (with HELD_POWER_MARGIN to spare); None when the store is not held or the present
        segment alone would be the run. A run once issued serves every regime inside it (a live
        display's chunks, a crossing), so the throttle and the trajectory do not depend on them."""
        need = self._held_need_W
        if need is None or self.state != "full" or self.p.over_voltage != "hold":
            return None
        floor = max(need * (1.0 + HELD_POWER_MARGIN), 1e-300)  # a dark segment never joins
        run = self._run
        if run is not None and run.t0 <= t < run.t_end and run.cap_min >= floor:
            return run
        if self._span is not None and self._span[0] == t and self._span[1] == need and self._span[2] is None:
            return None  # (a run found here is self._run, checked above)
        k0 = self.segment_at(t)
        run = None
        if self.capacity_W(k0) >= floor:
            k = self._held_until(k0, floor)
            count = len(self._times)
            if k > k0 + 1:
                run = self._run = _HeldRun(self, t, k0, k, self._times[k] if k < count else math.inf)
        self._span = (t, need, run)
        return run

    def on_regime_end(self, sim, t0: float, t1: float) -> None:
        """A regime of a held run ended at ``t1``: book each segment's own efficiency and sampling
        power for the part ``[t0, t1)`` instead of the run's averages (balance-neutral)."""
        run, power = self._run_in_use, self._held_need_W
        self._run_in_use = None
        if run is None or power is None or not t1 > t0:
            return
        for account, delta in run.corrections(t0, t1, power):
            if delta:
                sim.ledger.add(account, delta)

    def _sampling_time_before(self, x):
        """MPPT sampling time (s) in [0, x): sampling takes the first ``mppt_sample_time`` of each
        ``mppt_period`` (works on arrays)."""
        period, ts = self.p.mppt_period, min(self.p.mppt_sample_time, self.p.mppt_period)
        whole = np.floor(np.asarray(x, dtype=float) / period)
        return whole * ts + np.minimum(x - whole * period, ts)

    # --- what it draws -----------------------------------------------------------------------
    def schedule(self, sim) -> Schedule:
        t = sim.now
        run = self._run_in_use = self.held_span(t)
        if run is not None:
            return run.schedule
        k = self.segment_at(t)
        v_in, p_in = float(self.inputs.v_in[k]), float(self.inputs.p_in[k])
        key = (self.state, v_in, p_in, self._shares[k])
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= 4096:  # a year of minute light has 525,600 distinct levels
                self._cache.clear()
            cached = self._cache[key] = self._build(self.state, v_in, p_in, self._shares[k])
        return cached

    def _harvested(self, shares, per_joule: float, per_second: float) -> list[tuple[str, float, float]]:
        return [(f"harvested/{name}", per_joule * f, per_second * f) for name, f in shares]

    def _build(self, state: str, v_in: float, p_in: float, shares) -> Schedule:
        p, name = self.p, self.name
        iq = Draw(name, current_A=p.quiescent_current, accounts=((f"lost/quiescent/{name}", 1.0, 0.0),),
                  label="quiescent") if p.quiescent_current > 0 else None
        idle = ConstantSchedule((iq,) if iq else ())
        if state == "cold_start":
            eta = p.cold_start_efficiency
            if v_in < p.cold_start_voltage or p_in < p.cold_start_power or eta <= 0:
                return ConstantSchedule(())
            accounts = tuple(self._harvested(shares, -1.0 / eta, 0.0)) + ((f"lost/converter/{name}", -(1.0 / eta - 1.0), 0.0),)
            return ConstantSchedule((Draw(name, power_W=-eta * p_in, accounts=accounts, label="cold start"),))
        if (state == "full" and p.over_voltage == "stop") or v_in < p.input_voltage_min or p_in <= 0.0 or p_in < p.input_power_min:
            return idle
        eta = p.boost(v_in, p_in)
        if eta <= 0.0:
            return idle
        accounts = tuple(self._harvested(shares, -1.0 / eta, 0.0)) + ((f"lost/converter/{name}", -(1.0 / eta - 1.0), 0.0),)
        boost = Draw(name, power_W=-eta * p_in, accounts=accounts, label="boost")
        converting = (boost,) if p.efficiency_includes_quiescent or iq is None else (boost, iq)
        if p.mppt_sample_time <= 0.0:
            return ConstantSchedule(converting)
        lost = Draw(name, accounts=tuple(self._harvested(shares, 0.0, p_in)) + ((f"lost/mppt_sampling/{name}", 0.0, p_in),),
                    label="mppt sampling")
        sampling = (lost, iq) if iq else (lost,)
        return PeriodicSchedule.from_durations([(p.mppt_sample_time, sampling)], p.mppt_period, converting)

    @property
    def hold_storage(self) -> bool:
        """Full and holding: the engine throttles this PMIC's harvest to keep the store level."""
        return self.state == "full" and self.p.over_voltage == "hold"

    @property
    def hold_level(self) -> float:
        return self.p.v_ov

    # --- thresholds --------------------------------------------------------------------------
    def watches(self, sim) -> list[ComponentWatch]:
        p, out = self.p, []
        if self.state == "cold_start":
            out.append(ComponentWatch("terminal", p.v_chgen, "rising", "chgen_on", with_current=False))
        elif self.state == "charging":
            out.append(ComponentWatch("terminal", p.v_chgen - p.v_chgen_hysteresis, "falling", "chgen_off", with_current=False))
            out.append(ComponentWatch("terminal", p.v_ov, "rising", "ov_on", with_current=False))
        else:
            out.append(ComponentWatch("terminal", p.v_ov - p.v_ov_hysteresis, "falling", "ov_off", with_current=False))
        if p.v_pg_on is not None:
            if self.power_good:
                out.append(ComponentWatch("terminal", p.v_pg_off, "falling", "pg_off", with_current=False))
            else:
                out.append(ComponentWatch("terminal", p.v_pg_on, "rising", "pg_on", with_current=False))
        return out

    def on_watch(self, sim, key) -> None:
        p = self.p
        if key == "chgen_on":
            self.state = "charging"
            if self.cold_start_end_s is None:
                self.cold_start_end_s = sim.now
            sim.log(self.name, f"cold start ended at {p.v_chgen:g} V: boost charger with MPPT")
        elif key == "chgen_off":
            self.state = "cold_start"
            self._held_need_W = None
            self._run = None
            sim.log(self.name, f"storage below {p.v_chgen - p.v_chgen_hysteresis:g} V: back to cold start")
        elif key == "ov_on":
            self.state = "full"
            self._held_need_W = None
            self._run = None
            sim.log(self.name, f"over-voltage at {p.v_ov:g} V: charger off")
        elif key == "ov_off":
            self.state = "charging"
            self._held_need_W = None
            self._run = None
            sim.log(self.name, "charger on again")
        elif key == "pg_on":
            self.power_good = True
            self._pg_since = sim.now
            sim.log(self.name, f"power good at {p.v_pg_on:g} V: output rail on")
        elif key == "pg_off":
            self.power_good = False
            self.pg_time += sim.now - self._pg_since
            self.pg_off_events += 1
            sim.log(self.name, f"power good lost at {p.v_pg_off:g} V: output rail off")

    # --- reporting ---------------------------------------------------------------------------
    def state_columns(self) -> list[str]:
        return [f"{self.name}_state", f"{self.name}_power_good", f"{self.name}_input_W"]

    def state_values(self) -> list[float]:
        return [float(STATES.index(self.state)), 1.0 if self.power_good else 0.0, float(self.inputs.p_in[self.segment])]

    def input_energy_J(self, which: str, t_end: float) -> float:
        edges = np.append(self.inputs.times_s, max(t_end, self.inputs.times_s[-1]))
        spans = np.clip(np.minimum(edges[1:], t_end) - edges[:-1], 0.0, None)
        return float(np.sum(spans * getattr(self.inputs, which)))

    def summary(self) -> dict:
        t_end = self._sim.now if self._sim is not None else 0.0
        pg_time = self.pg_time + (t_end - self._pg_since if self.power_good else 0.0)
        n = self.name
        return {
            f"{n}_state_final": self.state,
            f"{n}_cold_start_end_s": self.cold_start_end_s,
            f"{n}_power_good_fraction": pg_time / t_end if t_end > 0 else 1.0,
            f"{n}_power_good_off_events": self.pg_off_events,
            f"{n}_input_mpp_energy_J": self.input_energy_J("p_mpp", t_end),
            f"{n}_input_operating_energy_J": self.input_energy_J("p_in", t_end),
        }


class _HeldRun:
    """A run of light segments ``k0 .. k_end - 1`` held from ``t0`` to ``t_end`` (Pmic.held_span):
    its schedule draws the run's smallest available power and books the converter loss and the
    MPPT sampling power with the run's time-weighted means; :meth:`corrections` turns what a
    regime booked that way into each segment's own figures."""

    def __init__(self, pmic: Pmic, t0: float, k0: int, k_end: int, t_end: float):
        p, name = pmic.p, pmic.name
        self.t0, self.k0, self.k_end, self.t_end = t0, k0, k_end, t_end
        self.name = name
        self.sampling_time_before = pmic._sampling_time_before
        t_stop = min(t_end, pmic._sim.t_end)
        times = np.array(pmic._times[k0:k_end] + [t_stop])
        self.starts, self.ends = np.clip(times[:-1], t0, t_stop), np.clip(times[1:], t0, t_stop)
        weight = (self.ends - self.starts) / (t_stop - t0)
        self.p_in = np.array(pmic.inputs.p_in[k0:k_end], dtype=float)
        capacity, inv_eta, shares = pmic._segment_arrays()
        self.inv_eta = inv_eta[k0:k_end]
        self.cap_min = float(capacity[k0:k_end].min())
        self.names = [n for n, _ in pmic._shares[k0]]
        self.shares = shares[k0:k_end]  # segments × harvesters
        self.harvested_per_joule = (weight * self.inv_eta) @ self.shares       # per harvester
        self.converter_per_joule = float(weight @ self.inv_eta) - 1.0
        accounts = tuple((f"harvested/{n}", -float(pj), 0.0) for n, pj in zip(self.names, self.harvested_per_joule)) \
            + ((f"lost/converter/{name}", -self.converter_per_joule, 0.0),)
        iq = Draw(name, current_A=p.quiescent_current, accounts=((f"lost/quiescent/{name}", 1.0, 0.0),),
                  label="quiescent") if p.quiescent_current > 0 else None
        self.boost = Draw(name, power_W=-self.cap_min, accounts=accounts, label="boost")
        converting = (self.boost,) if p.efficiency_includes_quiescent or iq is None else (self.boost, iq)
        self.sampling_power = 0.0
        self.harvested_per_second = np.zeros(len(self.names))
        self.samples = p.mppt_sample_time > 0.0
        if not self.samples:
            self.schedule = ConstantSchedule(converting)
            return
        sampled = self.sampling_time_before(self.ends) - self.sampling_time_before(self.starts)
        w_s = sampled / sampled.sum() if sampled.sum() > 0 else weight
        self.harvested_per_second = (w_s * self.p_in) @ self.shares
        self.sampling_power = float(w_s @ self.p_in)
        lost = Draw(name, accounts=tuple((f"harvested/{n}", 0.0, float(ps)) for n, ps in zip(self.names, self.harvested_per_second))
                    + ((f"lost/mppt_sampling/{name}", 0.0, self.sampling_power),), label="mppt sampling")
        sampling = (lost, iq) if iq else (lost,)
        self.schedule = PeriodicSchedule.from_durations([(p.mppt_sample_time, sampling)], p.mppt_period, converting)

    def corrections(self, a: float, b: float, power_W: float) -> list[tuple[str, float]]:
        """Per account, each segment's own bookkeeping minus the run's mean bookkeeping for
        ``[a, b)`` at delivered power ``power_W``: the boost converts outside the sampling
        windows, at each segment's efficiency; the sampling windows lose each segment's input
        power. Harvest minus losses is unchanged, so the ledger's balance is too."""
        lo, hi = np.clip(self.starts, a, b), np.clip(self.ends, a, b)
        sampled = self.sampling_time_before(hi) - self.sampling_time_before(lo) if self.samples else np.zeros(len(lo))
        converting = (hi - lo) - sampled
        c_total, s_total = float(converting.sum()), float(sampled.sum())
        exact_h = power_W * (converting * self.inv_eta) @ self.shares + (sampled * self.p_in) @ self.shares
        booked_h = power_W * c_total * self.harvested_per_joule + s_total * self.harvested_per_second
        out = [(f"harvested/{n}", float(e - k)) for n, e, k in zip(self.names, exact_h, booked_h)]
        out.append((f"lost/converter/{self.name}",
                    power_W * (float(converting @ (self.inv_eta - 1.0)) - c_total * self.converter_per_joule)))
        out.append((f"lost/mppt_sampling/{self.name}", float(sampled @ self.p_in) - s_total * self.sampling_power))
        return out
