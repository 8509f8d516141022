"""Piecewise-constant schedules of draws, and their merge into the phase table of a regime.

A component describes what it draws over time with one of three schedules:

* :class:`ConstantSchedule` – the same draws for the whole regime,
* :class:`PeriodicSchedule` – a cycle of phases (duty-cycled loads, MPPT sampling), kept in integer
  nanoseconds so that cycles of different loads merge exactly (1 s and 60 s merge into 60 s),
* :class:`PiecewiseSchedule` – draws that change at given times (traces, light data).

:func:`build_phases` merges the schedules that are active from ``t0`` into a :class:`PhaseTable`:
one merged cycle rotated to start at ``t0`` (repeating until the regime ends), or, when there is no
periodic schedule, a single phase. A piecewise schedule ends the regime at its next change.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from functools import reduce

import numpy as np

from .draws import Draw

NS_PER_S = 1_000_000_000
#: the largest merged cycle (in phases) built as one table
MAX_MERGED_PHASES = 200_000
#: phases built at a time when cycles do not merge (the regime ends after them and is rebuilt)
WINDOW_PHASES = 4096


def to_ns(seconds: float) -> int:
    return int(round(seconds * NS_PER_S))


class Schedule:
    """Base class; ``draws_at(t)`` is the tuple of draws in force at time ``t`` (s)."""

    def draws_at(self, t: float) -> tuple[Draw, ...]:
        raise NotImplementedError


@dataclass(frozen=True)
class ConstantSchedule(Schedule):
    draws: tuple[Draw, ...]

    def draws_at(self, t: float) -> tuple[Draw, ...]:
        return self.draws


@dataclass(frozen=True)
class PeriodicSchedule(Schedule):
    """Phases ``draws[i]`` start at ``starts_ns[i]`` within each period (``starts_ns[0] == 0``);
    the cycle starts at absolute time ``origin_ns``."""

    period_ns: int
    starts_ns: tuple[int, ...]
    draws: tuple[tuple[Draw, ...], ...]
    origin_ns: int = 0

    def __post_init__(self):
        if self.period_ns <= 0:
            raise ValueError("period must be positive")
        if not self.starts_ns or self.starts_ns[0] != 0:
            raise ValueError("the first phase must start at 0")
        if any(b <= a for a, b in zip(self.starts_ns, self.starts_ns[1:])) or self.starts_ns[-1] >= self.period_ns:
            raise ValueError("phase starts must increase and lie inside the period")
        if len(self.draws) != len(self.starts_ns):
            raise ValueError("one draw tuple per phase")

    def phase_index(self, t_ns: int) -> int:
        return bisect.bisect_right(self.starts_ns, (t_ns - self.origin_ns) % self.period_ns) - 1

    def draws_at(self, t: float) -> tuple[Draw, ...]:
        return self.draws[self.phase_index(to_ns(t))]

    @classmethod
    def from_durations(cls, phases: list[tuple[float, tuple[Draw, ...]]], period_s: float,
                       rest: tuple[Draw, ...], origin_s: float = 0.0) -> "PeriodicSchedule":
        """Phases of given durations (s) from the start of each period, then ``rest`` until the
        period ends. Zero-length phases are dropped."""
        period_ns = to_ns(period_s)
        starts, draws, t = [], [], 0
        for duration, phase_draws in phases:
            d = to_ns(duration)
            if d <= 0:
                continue
            starts.append(t)
            draws.append(phase_draws)
            t += d
        if t > period_ns:
            raise ValueError(f"phases last {t / NS_PER_S:g} s, longer than the period {period_s:g} s")
        if t < period_ns:
            starts.append(t)
            draws.append(rest)
        if not starts:
            starts, draws = [0], [rest]
        return cls(period_ns, tuple(starts), tuple(draws), to_ns(origin_s))


@dataclass(frozen=True)
class PiecewiseSchedule(Schedule):
    """``draws[i]`` holds on ``[times_s[i], times_s[i+1])``; nothing before ``times_s[0]``; the
    last value holds to the end."""

    times_s: tuple[float, ...]
    draws: tuple[tuple[Draw, ...], ...]

    def index(self, t: float) -> int:
        return bisect.bisect_right(self.times_s, t) - 1

    def draws_at(self, t: float) -> tuple[Draw, ...]:
        i = self.index(t)
        return self.draws[i] if i >= 0 else ()

    def next_change(self, t: float) -> float:
        i = bisect.bisect_right(self.times_s, t)
        return self.times_s[i] if i < len(self.times_s) else math.inf


class Cycle:
    """A merged duty cycle: phase lengths and which draws ("channels") each phase holds."""

    def __init__(self, period_ns: int, starts_ns: list[int], channels: tuple[Draw, ...], member: np.ndarray):
        self.period_ns = period_ns
        self.starts_ns = starts_ns
        self.h_ns = np.diff(np.array(starts_ns + [period_ns], dtype=np.int64))
        self.channels = channels
        self.member = member

    @classmethod
    def from_phase_draws(cls, period_ns: int, starts_ns: list[int], phase_draws: list[tuple[Draw, ...]]) -> "Cycle":
        channels, member = _membership(phase_draws)
        return cls(period_ns, starts_ns, channels, member)


def _membership(phase_draws) -> tuple[tuple[Draw, ...], np.ndarray]:
    """The distinct non-zero draws of a list of per-phase draw tuples, and which phase holds which."""
    index: dict[int, int] = {}
    order: list[Draw] = []
    for draws in phase_draws:
        for d in draws:
            if not d.is_zero and id(d) not in index:
                index[id(d)] = len(order)
                order.append(d)
    member = np.zeros((len(order), len(phase_draws)))
    for j, draws in enumerate(phase_draws):
        for d in draws:
            if not d.is_zero:
                member[index[id(d)], j] = 1.0
    return tuple(order), member


class PhaseTable:
    """The draws of a regime as arrays: phase lengths ``h_ns`` (int ns), the regime's draws
    (``channels``) and a ``member`` matrix (channel × phase, 1 where the channel draws). If
    ``cycle_s`` is set the phases repeat with that period from the regime start; if ``endless``
    there is one phase that lasts until the regime ends (``end_s``, or the caller's stop time)."""

    def __init__(self, h_ns: np.ndarray, channels: tuple[Draw, ...], member: np.ndarray,
                 cycle_s: float | None, end_s: float, endless: bool = False):
        self.h_ns, self.channels, self.member = h_ns, channels, member
        self.cycle_s, self.end_s, self.endless = cycle_s, end_s, endless
        self._derived: dict = {}  # the tables with_end/with_channels made, so they are reused

    @property
    def ends_ns(self) -> np.ndarray:
        """Offset of every phase's end from the table's start (ns), made once per table."""
        ends = self.__dict__.get("_ends_ns")
        if ends is None:
            ends = self._ends_ns = np.cumsum(np.asarray(self.h_ns, dtype=np.int64))
            ends.flags.writeable = False
        return ends

    @property
    def all_linear(self) -> bool:
        """Whether every draw is linear (no constant-power or voltage-dependent one), once per table."""
        linear = self.__dict__.get("_all_linear")
        if linear is None:
            linear = self._all_linear = all(d.is_linear for d in self.channels)
        return linear

    @property
    def draws_power(self) -> bool:
        """Whether any draw is a constant power, once per table."""
        power = self.__dict__.get("_draws_power")
        if power is None:
            power = self._draws_power = any(d.power_W != 0.0 for d in self.channels)
        return power

    @property
    def draws_functional(self) -> bool:
        """Whether any draw's current is a function of the voltage, once per table."""
        functional = self.__dict__.get("_draws_functional")
        if functional is None:
            functional = self._draws_functional = any(d.current_of_voltage is not None for d in self.channels)
        return functional

    @property
    def starts_ns(self) -> list[int]:
        """Offset of every phase's start from the table's start, and the cycle's end (ns, ints)."""
        starts = self.__dict__.get("_starts_ns")
        if starts is None:
            starts = self._starts_ns = [0] + self.ends_ns.tolist()
        return starts

    @property
    def phases(self) -> list[tuple[float, tuple[Draw, ...]]]:
        """``(duration_s, draws)`` per phase (``inf`` for an endless phase), for reading."""
        out = []
        for j, h in enumerate(self.h_ns):
            draws = tuple(d for c, d in enumerate(self.channels) if self.member[c, j])
            out.append((math.inf if self.endless else int(h) / NS_PER_S, draws))
        return out

    def with_channels(self, channels: tuple[Draw, ...]) -> "PhaseTable":
        """The same phases with other draws (a throttled harvest); the same object for the same
        channel tuple, so that caches keyed by the table (regimes, currents) hit from one stretch
        to the next."""
        return self._derive(("channels", id(channels)), channels, lambda: PhaseTable(
            self.h_ns, channels, self.member, self.cycle_s, self.end_s, self.endless))

    def with_end(self, end_s: float) -> "PhaseTable":
        """The same phases ending at ``end_s``; the same object for the same end (see with_channels)."""
        return self._derive(("end", end_s), None, lambda: PhaseTable(
            self.h_ns, self.channels, self.member, self.cycle_s, end_s, self.endless))

    def prefix(self, count: int) -> "PhaseTable":
        """The first ``count`` phases, once, without end (a stretch shorter than one cycle). A
        new table each time: a long run keeps many tables alive through the caches, and what
        they hold must not grow with simulated time (tests/test_soak.py)."""
        return PhaseTable(self.h_ns[:count], self.channels, self.member[:, :count], None, math.inf)

    def first_phase(self) -> "PhaseTable":
        """The first phase as an endless one (a stretch shorter than that phase); the same
        object each time (see with_channels)."""
        return self._derive(("first",), None, lambda: PhaseTable(
            self.h_ns[:1] * 0, self.channels, self.member[:, :1], None, self.end_s, endless=True))

    def _derive(self, key, keep, make) -> "PhaseTable":
        hit = self._derived.get(key)
        if hit is not None and hit[0] is keep:
            return hit[1]
        if len(self._derived) >= 16:
            self._derived.clear()
        table = make()
        self._derived[key] = (keep, table)
        return table


def _lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)


class PhaseMerger:
    """Merges periodic schedules into one :class:`Cycle`.

    The merge of the timing (period, phase starts, and which phase of every schedule is active in
    each merged phase) is cached by the schedules' timing alone, so a component that issues a new
    schedule for every light level (a PMIC's MPPT cycle at a new input power) merges for free; its
    draws then come in through a small membership matrix per schedule."""

    def __init__(self):
        self._timing: dict[tuple, tuple | None] = {}
        # per schedule object (kept alive in the value, so its id is not reused): its membership
        self._members: dict[int, tuple] = {}
        # per (timing, start position): the rotated phase lengths and per-schedule index maps
        self._rotations: dict[tuple, tuple] = {}
        # per (timing, position, schedule objects): the finished rotated table
        self._tables: dict[tuple, tuple] = {}
        # per (rotated cycle, constant draws, end): the finished table, so that the stretches of
        # one light segment share it (and the caches keyed by it)
        self._cyclic: dict[tuple, tuple] = {}
        # per (constant draws, end): the table of one endless phase (an event-driven run switches
        # between a few, e.g. a firmware's wake and sleep), reused so regimes keyed by it are too
        self._endless: dict[tuple, tuple] = {}

    def endless(self, fixed: tuple[Draw, ...], end: float) -> "PhaseTable":
        key = (tuple(map(id, fixed)), end)
        hit = self._endless.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], fixed)):
            return hit[1]
        member, h_ns = np.ones((len(fixed), 1)), np.zeros(1, dtype=np.int64)
        member.flags.writeable = h_ns.flags.writeable = False
        table = PhaseTable(h_ns, fixed, member, None, end, endless=True)
        if len(self._endless) >= 256:
            self._endless.clear()
        self._endless[key] = (fixed, table)
        return table

    def cyclic(self, rotated: tuple, fixed: tuple[Draw, ...], end: float) -> "PhaseTable":
        """The table of a rotated merged cycle (:meth:`rotated`) plus constant draws, until ``end``."""
        key = (id(rotated), tuple(map(id, fixed)), end)
        hit = self._cyclic.get(key)
        if hit is not None and hit[0] is rotated and all(a is b for a, b in zip(hit[1], fixed)):
            return hit[2]
        period_ns, h_ns, channels, member = rotated
        if fixed:
            member = np.vstack([member, np.ones((len(fixed), len(h_ns)))])
            member.flags.writeable = False
        table = PhaseTable(h_ns, channels + fixed, member, period_ns / NS_PER_S, end)
        if len(self._cyclic) >= 256:
            self._cyclic.clear()
        self._cyclic[key] = (rotated, fixed, table)
        return table

    def _timing_of(self, periodic: tuple[PeriodicSchedule, ...]):
        key = tuple((s.period_ns, s.starts_ns, s.origin_ns) for s in periodic)
        timing = self._timing.get(key, False)
        if timing is False:
            if len(self._timing) >= 1024:
                self._timing.clear()
            timing = self._timing[key] = _merge_timing(periodic)
        return key, timing

    def membership(self, s: PeriodicSchedule) -> tuple[tuple[Draw, ...], np.ndarray]:
        """:func:`_membership` of one schedule's phases, cached per schedule object (a light level
        change re-issues only the PMIC's schedule; the loads' stay the same objects)."""
        hit = self._members.get(id(s))
        if hit is not None and hit[0] is s:
            return hit[1], hit[2]
        if len(self._members) >= 256:
            self._members.clear()
        ch, member = _membership(s.draws)
        self._members[id(s)] = (s, ch, member)
        return ch, member

    def merged_cycle(self, periodic: tuple[PeriodicSchedule, ...]) -> Cycle | None:
        _, timing = self._timing_of(periodic)
        if timing is None:
            return None
        period, starts, index_maps = timing
        channels: list[Draw] = []
        blocks = []
        for s, indices in zip(periodic, index_maps):
            ch, member = self.membership(s)
            channels.extend(ch)
            blocks.append(member[:, indices])
        member = np.vstack(blocks) if blocks else np.zeros((0, len(starts)))
        return Cycle(period, starts, tuple(channels), member)

    def rotated(self, t0: float, periodic: tuple[PeriodicSchedule, ...]):
        """The merged cycle rotated to start at ``t0``: ``(period_ns, h_ns, channels, member)``, or
        None when the cycles do not merge. The timing part is cached per start position (a light
        segment boundary falls on the same position of the cycle again and again)."""
        key, timing = self._timing_of(periodic)
        if timing is None:
            return None
        period, starts, index_maps = timing
        pos = to_ns(t0) % period
        rkey = (key, pos)
        rot = self._rotations.get(rkey)
        if rot is None:
            if len(self._rotations) >= 1024:
                self._rotations.clear()
            k = bisect.bisect_right(starts, pos) - 1
            count = len(starts)
            order = np.concatenate([np.arange(k, count), np.arange(0, k)])
            h_all = np.diff(np.array(starts + [period], dtype=np.int64))
            h_ns = h_all[order].copy()
            h_ns[0] -= pos - starts[k]
            if pos != starts[k]:  # the cycle closes with the part of phase k before the start position
                order = np.append(order, k)
                h_ns = np.append(h_ns, pos - starts[k])
            h_ns.flags.writeable = False
            rot = self._rotations[rkey] = (h_ns, [indices[order] for indices in index_maps])
        h_ns, maps = rot
        # the same schedule objects at the same position (the stretches of one light segment
        # end on whole cycles): the same table, so the caches keyed by its channels hit as well
        ids = tuple(id(s) for s in periodic)
        hit = self._tables.get((rkey, ids))
        if hit is not None and all(a is b for a, b in zip(hit[0], periodic)):
            return hit[1]
        channels: list[Draw] = []
        blocks = []
        for s, indices in zip(periodic, maps):
            ch, member = self.membership(s)
            channels.extend(ch)
            blocks.append(member[:, indices])
        member = np.vstack(blocks) if len(blocks) > 1 else (blocks[0] if blocks else np.zeros((0, len(h_ns))))
        member.flags.writeable = False
        out = (period, h_ns, tuple(channels), member)
        if len(self._tables) >= 64:
            self._tables.clear()
        self._tables[(rkey, ids)] = (periodic, out)
        return out


def _merge_timing(periodic) -> tuple | None:
    period = reduce(_lcm, (s.period_ns for s in periodic))
    count = sum(len(s.starts_ns) * (period // s.period_ns) for s in periodic)
    if count > MAX_MERGED_PHASES:
        return None
    points = set()
    for s in periodic:
        for r in range(period // s.period_ns):
            base = r * s.period_ns + s.origin_ns
            points.update((base + st) % period for st in s.starts_ns)
    points.add(0)
    starts = sorted(points)
    index_maps = [np.array([s.phase_index(p) for p in starts], dtype=np.int64) for s in periodic]
    return period, starts, index_maps


def build_phases(t0: float, schedules: list[Schedule], merger: PhaseMerger) -> PhaseTable:
    """Merge ``schedules`` into the phase table of a regime starting at ``t0`` (s)."""
    constant: list[Draw] = []
    periodic: list[PeriodicSchedule] = []
    end = math.inf
    for s in schedules:
        if isinstance(s, PeriodicSchedule):
            periodic.append(s)
        elif isinstance(s, PiecewiseSchedule):
            constant.extend(s.draws_at(t0))
            end = min(end, s.next_change(t0))
        else:
            constant.extend(s.draws_at(t0))
    fixed = tuple(d for d in constant if not d.is_zero)
    if not periodic:
        return merger.endless(fixed, end)
    rotated = merger.rotated(t0, tuple(periodic))
    if rotated is None:
        # Incommensurate cycles: build the phases up to a window and treat them as aperiodic.
        return _window_phases(t0, periodic, fixed, end)
    return merger.cyclic(rotated, fixed, end)


def _window_phases(t0: float, periodic: list[PeriodicSchedule], fixed: tuple[Draw, ...], end: float) -> PhaseTable:
    t0_ns = to_ns(t0)
    cursor = t0_ns
    starts, draws = [], []
    while len(starts) < WINDOW_PHASES:
        nxt = min(_next_start(s, cursor) for s in periodic)
        starts.append(cursor - t0_ns)
        draws.append(tuple(d for s in periodic for d in s.draws[s.phase_index(cursor)]))
        cursor = nxt
    window = Cycle.from_phase_draws(cursor - t0_ns, starts, draws)
    member = window.member if not fixed else np.vstack([window.member, np.ones((len(fixed), len(starts)))])
    return PhaseTable(window.h_ns, window.channels + fixed, member, None, min(end, cursor / NS_PER_S))


def _next_start(s: PeriodicSchedule, t_ns: int) -> int:
    rel = (t_ns - s.origin_ns) % s.period_ns
    i = bisect.bisect_right(s.starts_ns, rel)
    nxt = s.starts_ns[i] if i < len(s.starts_ns) else s.period_ns
    return t_ns + (nxt - rel)
