"""The wall-clock time behind a run's state, across invocations, and its budget.

Training ablations at equal wall-clock time need the time a workdir's state cost,
whatever the number of invocations (interrupted and resumed runs included). A run
records, next to each kept checkpoint, the wall seconds spent to reach it
(``wall_clock.json``: ``{"seconds_at_step": {"<step>": seconds}}``); a resumed run
starts counting from the seconds of the checkpoint it restored, so time spent after
the last checkpoint of an interrupted invocation is not counted twice or at all.

Example:
  >>> clock = WallClock("/tmp/sen_wall_clock_example", budget_minutes=0.0)
  >>> clock.resume(0)
  >>> clock.spent()  # No budget: never spent.
  False
"""

from __future__ import annotations

import os
import time

from sketchembednet import jsonio
from sketchembednet.models import checkpoints

WALL_CLOCK_JSON = "wall_clock.json"


class WallClock:
    """Wall seconds spent on a workdir's training state, and ``train.max_wall_minutes``.

    Args:
      workdir: the run's folder (``wall_clock.json`` is read and written there).
      budget_minutes: the budget; 0 = none.
    """

    def __init__(self, workdir: str, budget_minutes: float):
        self.path = os.path.join(workdir, WALL_CLOCK_JSON)
        self.result_path = os.path.join(workdir, checkpoints.TRAIN_RESULT_JSON)
        self.budget = float(budget_minutes) * 60.0
        self.base, self.started = 0.0, None

    def _recorded(self) -> dict:
        return (jsonio.read_json(self.path, corrupt_ok=True) or {}).get("seconds_at_step", {})

    def resume(self, step: int) -> None:
        """Counts from the seconds behind the checkpoint of ``step`` (restored); older
        workdirs without a record fall back to train_result.json's ``total_wall_seconds``.
        The clock stands until :meth:`start`."""
        seconds = self._recorded()
        if str(step) in seconds or not step:
            self.base = float(seconds.get(str(step), 0.0))
        else:
            old = jsonio.read_json(self.result_path, corrupt_ok=True) or {}
            self.base = float(old.get("total_wall_seconds", 0.0))
        self.started = None

    def start(self, now: float | None = None) -> None:
        """Starts counting this invocation's training time."""
        self.started = time.time() if now is None else now

    def seconds(self) -> float:
        """Wall seconds spent on the state trained: earlier invocations plus this one."""
        return self.base + (time.time() - self.started if self.started else 0.0)

    def spent(self) -> bool:
        """Whether a budget is set and reached (this worker's view)."""
        return self.budget > 0 and self.seconds() >= self.budget

    def record(self, step: int, kept_checkpoints) -> None:
        """Records the seconds behind the checkpoint of ``step``; forgets the checkpoints
        no longer kept (``kept_checkpoints``: their paths, ``.../ckpt-<step>``)."""
        kept = {str(p).rpartition("-")[2] for p in kept_checkpoints}
        seconds = {k: v for k, v in self._recorded().items() if k in kept}
        seconds[str(step)] = self.seconds()
        jsonio.write_json(self.path, {"seconds_at_step": seconds})
