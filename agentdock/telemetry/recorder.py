"""A LangChain callback handler that records graph nodes, tools and model calls into a run.

Added to a run's callbacks only when a trace backend is on (``ctx.config["callbacks"]``, which
``adapters.callbacks.run_config`` merges after the gate handler). It only appends to the
``RunRecord``: no redaction, no serialisation here. LangGraph marks the run of each node with
``metadata["langgraph_node"]`` and names it after the node, which is how nodes are told apart
from the many inner chains.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from agentdock.telemetry.run import RunRecord, Step


def _model_name(kwargs: dict[str, Any], serialized: dict[str, Any] | None) -> str | None:
    params = kwargs.get("invocation_params") or {}
    meta = kwargs.get("metadata") or {}
    return (
        params.get("model")
        or params.get("model_name")
        or meta.get("ls_model_name")
        or ((serialized or {}).get("kwargs") or {}).get("model_name")
    )


def _usage_and_model(response: Any) -> tuple[int, int, str | None]:
    tin = tout = 0
    model = None
    for generations in getattr(response, "generations", None) or ():
        for generation in generations:
            message = getattr(generation, "message", None)
            meta = getattr(message, "usage_metadata", None)
            if meta:
                tin += int(meta.get("input_tokens", 0))
                tout += int(meta.get("output_tokens", 0))
            rmeta = getattr(message, "response_metadata", None) or {}
            model = model or rmeta.get("model_name") or rmeta.get("model")
    llm_output = getattr(response, "llm_output", None) or {}
    if not (tin or tout):
        usage = llm_output.get("token_usage") or llm_output.get("usage") or {}
        tin = int(usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0)
        tout = int(usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0)
    return tin, tout, model or llm_output.get("model_name")


def make_recorder(record: RunRecord) -> Any:
    """A ``BaseCallbackHandler`` bound to ``record`` (class built lazily: langchain_core import)."""
    from langchain_core.callbacks import BaseCallbackHandler

    class RunRecorder(BaseCallbackHandler):
        run_inline = True

        def __init__(self) -> None:
            self.open: dict[UUID, Step] = {}

        def _start(self, run_id: UUID, step: Step) -> None:
            self.open[run_id] = step
            record.steps.append(step)

        def _end(self, run_id: UUID, output: Any = None, error: BaseException | None = None) -> Step | None:
            step = self.open.pop(run_id, None)
            if step is not None:
                step.end_ns = time.time_ns()
                if error is not None:
                    step.error = type(error).__name__
                elif step.kind == "tool":
                    step.output = output
            return step

        def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
            node = (kwargs.get("metadata") or {}).get("langgraph_node")
            if node is not None and kwargs.get("name") == node:
                self._start(run_id, Step("node", str(node), time.time_ns()))

        def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
            self._end(run_id)

        def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
            self._end(run_id, error=error)

        def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, **kwargs: Any) -> None:
            model = _model_name(kwargs, serialized)
            self._start(run_id, Step("generation", "model", time.time_ns(), model=model))

        def on_llm_start(self, serialized: Any, prompts: Any, *, run_id: UUID, **kwargs: Any) -> None:
            model = _model_name(kwargs, serialized)
            self._start(run_id, Step("generation", "model", time.time_ns(), model=model))

        def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
            step = self._end(run_id)
            if step is not None:
                step.input_tokens, step.output_tokens, model = _usage_and_model(response)
                step.model = model or step.model
                step.name = step.model or "model"

        def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
            self._end(run_id, error=error)

        def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID, **kwargs: Any) -> None:
            name = str((serialized or {}).get("name") or kwargs.get("name") or "tool")
            inputs = kwargs.get("inputs")
            self._start(
                run_id, Step("tool", name, time.time_ns(), input=inputs if inputs is not None else input_str)
            )

        def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
            self._end(run_id, output=getattr(output, "content", output))

        def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
            self._end(run_id, error=error)

    return RunRecorder()
