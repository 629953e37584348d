"""Records a run's graph nodes, tools and model calls into its ``RunRecord``.

``RunSteps`` is the runtime's ``adapters.base.StepRecorder``: the pipeline puts one on the
``RunContext`` of a traced run, and the adapter's own callback handler (``adapters.callbacks``,
which already sees every tool and model call to gate tools and count tokens) reports to it, so
tracing adds no LangChain handler to the run (each handler costs every callback dispatch, and
LangChain's protocol checks, on the request path). It only appends plain ``Step`` records: no
redaction, no serialisation here.
"""

from __future__ import annotations

import time
from typing import Any

from agentdock.telemetry.run import RunRecord, Step


class RunSteps:
    __slots__ = ("open", "steps")

    def __init__(self, record: RunRecord) -> None:
        self.open: dict[Any, Step] = {}
        self.steps = record.steps

    def _start(self, run_id: Any, step: Step) -> None:
        self.open[run_id] = step
        self.steps.append(step)

    def node_start(self, run_id: Any, name: str) -> None:
        self._start(run_id, Step("node", name, time.time_ns()))

    def tool_start(self, run_id: Any, name: str, args: Any) -> None:
        self._start(run_id, Step("tool", name, time.time_ns(), input=args))

    def model_start(self, run_id: Any, model: str | None) -> None:
        self._start(run_id, Step("generation", "model", time.time_ns(), model=model))

    def model_end(self, run_id: Any, input_tokens: int, output_tokens: int, model: str | None) -> None:
        step = self.open.pop(run_id, None)
        if step is not None:
            step.end_ns = time.time_ns()
            step.input_tokens, step.output_tokens = input_tokens, output_tokens
            step.model = model or step.model
            step.name = step.model or "model"

    def end(self, run_id: Any, output: Any = None, error: BaseException | None = None) -> None:
        step = self.open.pop(run_id, None)
        if step is not None:
            step.end_ns = time.time_ns()
            if error is not None:
                step.error = type(error).__name__
            elif step.kind == "tool":
                step.output = output
