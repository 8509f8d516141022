"""The inner loop of the event path, unrolled for the number of modes and watched outputs.

Stepping a segment is a handful of multiply-adds per mode, so in CPython the cost is dominated by
interpreter overhead: list indexing, loops over modes, attribute look-ups. :func:`kernel` returns a
function generated for ``n`` modes and ``m`` extra watched outputs that keeps the state in local
variables and walks the phases until the first segment that needs the general, exact treatment in
:mod:`sysim.engine.stepper`: a segment whose output bounds reach a watched level or the running
extreme, one that holds a sample time, the last (partial) segment, or the end of a non-cyclic table.

Per phase the kernel reads a tuple ``(p_0..p_{n-1}, g_0..g_{n-1}, h_ns, k_term, lo_0, hi_0,
lo_1, hi_1, ..., acc)``: the exact step ``z ← p·z + g``, the phase length in ns, the terminal
offset ``d·I + f``, the limits that the bound ``Σ min/max(c·z_start, c·z_end)`` of each watched
output must stay within, and the list of running sums ``[count, Σz_i..., Σz_i²...]`` for the ledger.
The generated code is plain Python; print ``kernel_source(n, m)`` to read it.
"""
from __future__ import annotations

from functools import lru_cache


def kernel_source(n: int, m: int) -> str:
    zs = [f"z{i}" for i in range(n)]
    lines = [f"def step(data, index, n_phases, cyclic, z, elapsed, limit_ns, cs, vmin, vmax, tol):"]
    lines.append(f"    {', '.join(zs)}, = z")
    for o in range(m + 1):
        lines.append(f"    {', '.join(f'c{o}_{i}' for i in range(n))}, = cs[{o}]")
    lines.append("    count = 0")
    lines.append("    t_vmin = t_vmax = -1")
    lines.append("    while True:")
    lines.append("        d = data[index]")
    lines.append(f"        h_ns = d[{2 * n}]")
    lines.append("        if elapsed + h_ns >= limit_ns:")
    lines.append("            break")
    for i in range(n):
        lines.append(f"        n{i} = d[{i}] * z{i} + d[{n + i}]")
    for o in range(m + 1):
        lines.append("        lo = hi = s0 = s1 = 0.0" if o == 0 else "        lo = hi = 0.0")
        for i in range(n):
            lines.append(f"        a = c{o}_{i} * z{i}")
            lines.append(f"        b = c{o}_{i} * n{i}")
            if o == 0:
                lines.append("        s0 += a")
                lines.append("        s1 += b")
            lines.append("        if a < b:")
            lines.append("            lo += a")
            lines.append("            hi += b")
            lines.append("        else:")
            lines.append("            lo += b")
            lines.append("            hi += a")
        lo_idx, hi_idx = 2 * n + 2 + 2 * o, 2 * n + 3 + 2 * o
        lines.append(f"        if lo < d[{lo_idx}] or hi > d[{hi_idx}]:")
        lines.append("            break")
        if o == 0:
            lines.append("        lo_t, hi_t = lo, hi")
    # a new running extreme, once no watch stops the segment (a crossing ends it early, and the
    # general path then takes the extremes of the part before it): exact inline when the segment
    # is monotone (the bound is then an endpoint, computed by the same operations), otherwise
    # left to the general path
    lines.append(f"        k = d[{2 * n + 1}]")
    lines.append("        if k + lo_t < vmin - tol:")
    lines.append("            if lo_t == s1:")
    lines.append("                vmin = k + lo_t")
    lines.append("                t_vmin = elapsed + h_ns")
    lines.append("            elif lo_t == s0:")
    lines.append("                vmin = k + lo_t")
    lines.append("                t_vmin = elapsed")
    lines.append("            else:")
    lines.append("                break")
    lines.append("        if k + hi_t > vmax + tol:")
    lines.append("            if hi_t == s1:")
    lines.append("                vmax = k + hi_t")
    lines.append("                t_vmax = elapsed + h_ns")
    lines.append("            elif hi_t == s0:")
    lines.append("                vmax = k + hi_t")
    lines.append("                t_vmax = elapsed")
    lines.append("            else:")
    lines.append("                break")
    acc_idx = 2 * n + 2 + 2 * (m + 1)
    lines.append(f"        acc = d[{acc_idx}]")
    lines.append("        acc[0] += 1")
    for i in range(n):
        lines.append(f"        acc[{1 + i}] += z{i}")
        lines.append(f"        acc[{1 + n + i}] += z{i} * z{i}")
    lines.append(f"        {', '.join(zs)} = {', '.join(f'n{i}' for i in range(n))}")
    lines.append("        elapsed += h_ns")
    lines.append("        count += 1")
    lines.append("        index += 1")
    lines.append("        if index == n_phases:")
    lines.append("            if not cyclic:")
    lines.append("                break")
    lines.append("            index = 0")
    lines.append(f"    z[:] = [{', '.join(zs)}]")
    lines.append("    return index, elapsed, count, vmin, vmax, t_vmin, t_vmax")
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=64)
def kernel(n: int, m: int):
    """The stepping loop for ``n`` modes and ``m`` watched outputs besides the terminal."""
    namespace: dict = {}
    exec(compile(kernel_source(n, m), f"<sysim kernel n={n} m={m}>", "exec"), namespace)  # noqa: S102
    return namespace["step"]
