"""A progress bar that appears only when a run takes longer than a second."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sysim.units import time_scale as time_axis


class LazyProgress:
    """Callable ``(t_sim, t_end, wall_s)``; shows a rich bar once ``wall_s`` passes ``delay_s``."""

    def __init__(self, label: str, console: Console | None = None, delay_s: float = 1.0, enabled: bool = True):
        self.label, self.console, self.delay_s, self.enabled = label, console, delay_s, enabled
        self._progress = None
        self._task = None

    def __call__(self, t_sim: float, t_end: float, wall_s: float) -> None:
        if not self.enabled or wall_s < self.delay_s:
            return
        scale, unit = time_axis(t_end)
        if self._progress is None:
            self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                      TextColumn("{task.percentage:>5.1f} %"),
                                      TextColumn("{task.fields[sim]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                                      console=self.console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=t_end, sim="")
        self._progress.update(self._task, completed=t_sim,
                              sim=f"{t_sim / scale:.3g}/{t_end / scale:.3g} {unit} simulated")

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
