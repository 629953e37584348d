"""The I/O contract of one agent: validate input in, validate output out, publish both schemas.

Built once per app from ``io_schema``: inline JSON Schemas become strict generated models
(``schemas.py``); ``input_class``/``output_class`` are the user's own pydantic models. Every
request pays one validator call per direction and nothing else: no model is created per
request. An output that fails validation is never returned: it becomes a 500
SchemaMismatchError.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic_core
from pydantic import BaseModel, ValidationError

from agentdock.errors import InvalidIOSchemaError, SchemaMismatchError, ValidationFailed
from agentdock.runtime.schemas import defaults_of, model_from_schema
from agentdock.spec.models import DockSpec


def field_errors(exc: ValidationError, prefix: tuple[str | int, ...]) -> list[dict[str, Any]]:
    """The FastAPI-style list of failing fields, without echoing the submitted values."""
    return [
        {"loc": [*prefix, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


class InputInvalid(ValidationFailed):
    """422 with the failing fields (rendered as ``fields`` next to the envelope)."""

    def __init__(self, cause: str, fields: list[dict[str, Any]]) -> None:
        super().__init__(cause)
        self.fields = fields

    def envelope(self, trace_id: str) -> dict[str, Any]:
        return {**super().envelope(trace_id), "fields": self.fields}


def _mismatch(exc: ValidationError) -> SchemaMismatchError:
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    return SchemaMismatchError(
        f"the agent's output does not match the output schema at {where}: {first['msg']}"
    )


class IOContract:
    """Validates one agent's input and output; see the module docstring."""

    def __init__(
        self,
        input_model: type[BaseModel],
        output_model: type[BaseModel],
        input_schema: dict[str, Any],
        output_schema: dict[str, Any],
        *,
        inline: bool,
    ) -> None:
        self.input_model = input_model
        self.output_model = output_model
        self.input_schema = input_schema
        self.output_schema = output_schema
        self.inline = inline
        self._validate_in = input_model.__pydantic_validator__.validate_python
        self._validate_out = output_model.__pydantic_validator__.validate_python
        self._defaults = defaults_of(input_schema) if inline else {}
        props = output_schema.get("properties") if inline else None
        self._out_keys = tuple(props) if isinstance(props, dict) and props else None

    # --- input ---------------------------------------------------------------------------

    def parse_body(self, body: bytes) -> dict[str, Any]:
        """Parse and validate a JSON request body (422 with fields on any failure)."""
        if not body:
            raise InputInvalid(
                "the request body is empty; send a JSON object",
                [{"loc": ["body"], "msg": "Field required", "type": "missing"}],
            )
        try:
            data = pydantic_core.from_json(body, allow_inf_nan=False)
        except ValueError as exc:
            msg = str(exc).split("\n", 1)[0][:200]
            raise InputInvalid(
                "the request body is not valid JSON", [{"loc": ["body"], "msg": msg, "type": "json_invalid"}]
            ) from None
        return self.check_input(data, ("body",))

    def check_input(self, data: Any, prefix: tuple[str | int, ...] = ("body",)) -> dict[str, Any]:
        """Validate already-parsed input; returns the dict handed to the agent."""
        if not isinstance(data, dict):
            raise InputInvalid(
                "the input must be a JSON object",
                [{"loc": list(prefix), "msg": "Input should be an object", "type": "model_type"}],
            )
        try:
            validated = self._validate_in(data)
        except ValidationError as exc:
            raise InputInvalid(
                "the input does not match the input schema", field_errors(exc, prefix)
            ) from None
        if not self.inline:
            return validated.model_dump(mode="json")
        # Strict validation never coerces, so the client's data is the validated data.
        if self._defaults:
            missing = {k: v for k, v in self._defaults.items() if k not in data}
            if missing:
                return {**data, **missing}
        return data

    # --- output --------------------------------------------------------------------------

    def project(self, output: Any) -> Any:
        """Keep the declared output fields only (graph state carries messages and scratch keys)."""
        if self._out_keys is not None and isinstance(output, dict):
            return {k: output[k] for k in self._out_keys if k in output}
        if isinstance(output, BaseModel) and not self.inline:
            return output.model_dump(mode="json", by_alias=True)
        return output

    def check_output(self, output: Any) -> dict[str, Any]:
        """Validate the (projected, policy-filtered) output; raise SchemaMismatchError (500)."""
        if not isinstance(output, dict):
            raise SchemaMismatchError(
                f"the agent returned {type(output).__name__}, the output schema expects an object"
            )
        try:
            validated = self._validate_out(output)
        except ValidationError as exc:
            raise _mismatch(exc) from None
        if not self.inline:
            return validated.model_dump(mode="json", by_alias=True)
        return output


def dumps_output(data: Any) -> bytes:
    """JSON bytes of a validated output; a value JSON cannot carry is a schema mismatch."""
    try:
        return pydantic_core.to_json(data)
    except (pydantic_core.PydanticSerializationError, ValueError, TypeError):
        raise SchemaMismatchError("the agent's output holds a value that is not JSON") from None


def build_contract(
    spec: DockSpec, base_dir: str | Path, *, import_object: Callable[[str, Path], Any] | None = None
) -> IOContract:
    """The contract for ``spec.io_schema``: inline schemas or imported pydantic classes."""
    io = spec.io_schema
    if io.input is not None and io.output is not None:
        input_model = model_from_schema(io.input, "Input", path="io_schema.input", extra="allow")
        output_model = model_from_schema(io.output, "Output", path="io_schema.output", extra="ignore")
        return IOContract(input_model, output_model, io.input, io.output, inline=True)
    if io.input_class and io.output_class:
        models = []
        for path, dotted in (
            ("io_schema.input_class", io.input_class),
            ("io_schema.output_class", io.output_class),
        ):
            if import_object is None:
                from agentdock.spec import import_object as spec_import

                obj = spec_import(dotted, Path(base_dir), path=path, error=InvalidIOSchemaError)
            else:
                obj = import_object(dotted, Path(base_dir))
            if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
                raise InvalidIOSchemaError(path, f"{dotted} is not a pydantic model class")
            models.append(obj)
        return IOContract(
            models[0],
            models[1],
            models[0].model_json_schema(),
            models[1].model_json_schema(mode="serialization"),
            inline=False,
        )
    raise InvalidIOSchemaError(
        "io_schema", "give both input and output (inline) or input_class and output_class"
    )
