"""A small validator for Google API discovery-document schemas (the ``run.v2.json`` that
``google-api-python-client`` ships in its discovery cache, loaded from the installed package).

Checks what the stand-in needs to refuse a bad request body the way Google would: JSON types,
``$ref``, ``enum`` (names; integers too when the request says ``enum-encoding=int``, decoded through
the client's own proto enum so the *name* is what is checked), formats (int64 as strings, durations,
bytes), unknown fields, and output-only (``readOnly``) fields sent in a request.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

EnumDecoder = Callable[[str, str, int], str | None]  # (schema id, property, number) -> enum name

_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_INT64 = re.compile(r"^-?\d+$")


def load_discovery(name: str = "run.v2.json") -> dict[str, Any]:
    """The discovery document as shipped in the installed ``googleapiclient`` (never a copy)."""
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / name
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def proto_enum_decoder(schema_id: str, prop: str, number: int) -> str | None:
    """Enum number -> name through the proto descriptor of the message a discovery schema names
    (``GoogleCloudRunV2Foo`` -> ``google.cloud.run.v2.Foo``, ``GoogleIamV1Foo`` -> ``google.iam.v1.Foo``)."""
    from google.cloud import run_v2  # noqa: F401  (registers the run.v2 descriptors)
    from google.iam.v1 import policy_pb2  # noqa: F401
    from google.protobuf import descriptor_pool

    for prefix, package in (("GoogleCloudRunV2", "google.cloud.run.v2."), ("GoogleIamV1", "google.iam.v1.")):
        if schema_id.startswith(prefix):
            full = package + schema_id[len(prefix) :]
            break
    else:
        return None
    try:
        message = descriptor_pool.Default().FindMessageTypeByName(full)
    except KeyError:
        return None
    field = next((f for f in message.fields if f.json_name == prop), None)
    if field is None or field.enum_type is None:
        return None
    value = field.enum_type.values_by_number.get(number)
    return value.name if value is not None else None


class DiscoveryValidator:
    """``check(schema_id, body)`` -> (errors, body with integer enums turned into names)."""

    def __init__(self, doc: dict[str, Any], *, enum_decoder: EnumDecoder | None = None) -> None:
        self.doc = doc
        self.schemas: dict[str, Any] = doc["schemas"]
        self.enum_decoder = enum_decoder

    def method(self, method_id: str) -> dict[str, Any]:
        """A method by id, e.g. ``run.projects.locations.services.create``."""
        node: dict[str, Any] = self.doc
        parts = method_id.split(".")[1:]
        for part in parts[:-1]:
            node = node["resources"][part]
        found: dict[str, Any] = node["methods"][parts[-1]]
        return found

    def check(
        self, schema_id: str, body: Any, *, request: bool = True, int_enums: bool = False
    ) -> tuple[list[str], Any]:
        errors: list[str] = []
        normal = self._value({"$ref": schema_id}, body, "", errors, request, int_enums, schema_id, "")
        return errors, normal

    def _value(
        self,
        schema: dict[str, Any],
        value: Any,
        path: str,
        errors: list[str],
        request: bool,
        int_enums: bool,
        owner: str,
        prop: str,
    ) -> Any:
        where = path or "<body>"
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in self.schemas:
                errors.append(f"{where}: unknown schema {ref}")
                return value
            return self._value(self.schemas[ref], value, path, errors, request, int_enums, ref, prop)
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema, value, path, errors, request, int_enums, owner)
        if kind == "array":
            if not isinstance(value, list):
                errors.append(f"{where}: expected an array, got {type(value).__name__}")
                return value
            items = schema.get("items", {})
            return [
                self._value(items, v, f"{path}[{i}]", errors, request, int_enums, owner, prop)
                for i, v in enumerate(value)
            ]
        if "enum" in schema:
            return self._enum(schema, value, where, errors, int_enums, owner, prop)
        if kind == "string":
            self._string(schema.get("format"), value, where, errors)
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(f"{where}: expected an integer, got {value!r}")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.append(f"{where}: expected a number, got {value!r}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                errors.append(f"{where}: expected a boolean, got {value!r}")
        elif kind != "any":
            errors.append(f"{where}: schema has no type the validator knows ({kind!r})")
        return value

    def _object(
        self,
        schema: dict[str, Any],
        value: Any,
        path: str,
        errors: list[str],
        request: bool,
        int_enums: bool,
        owner: str,
    ) -> Any:
        where = path or "<body>"
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object, got {type(value).__name__}")
            return value
        props: dict[str, Any] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key in props:
                spec = props[key]
                if request and spec.get("readOnly"):
                    errors.append(f"{sub}: output-only field sent in a request")
                out[key] = self._value(spec, item, sub, errors, request, int_enums, owner, key)
            elif extra is not None:
                out[key] = self._value(extra, item, sub, errors, request, int_enums, owner, key)
            elif key == "@type" and owner == "GoogleProtobufAny":
                out[key] = item
            else:
                errors.append(f"{sub}: unknown field (not in {owner})")
                out[key] = item
        return out

    def _enum(
        self,
        schema: dict[str, Any],
        value: Any,
        where: str,
        errors: list[str],
        int_enums: bool,
        owner: str,
        prop: str,
    ) -> Any:
        allowed = schema["enum"]
        if isinstance(value, int) and not isinstance(value, bool) and int_enums:
            name = self.enum_decoder(owner, prop, value) if self.enum_decoder else None
            if name is None or name not in allowed:
                errors.append(f"{where}: enum number {value} is not one of {allowed}")
                return value
            return name
        if value not in allowed:
            errors.append(f"{where}: {value!r} is not one of {allowed}")
        return value

    @staticmethod
    def _string(fmt: str | None, value: Any, where: str, errors: list[str]) -> None:
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string, got {value!r}")
            return
        if fmt in ("int64", "uint64") and not _INT64.match(value):
            errors.append(f"{where}: {value!r} is not an int64 string")
        elif fmt == "google-duration" and not _DURATION.match(value):
            errors.append(f"{where}: {value!r} is not a duration like '300s'")
        elif fmt == "google-datetime" and not _DATETIME.match(value):
            errors.append(f"{where}: {value!r} is not an RFC 3339 time")
        elif fmt == "byte":
            try:
                base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
            except (binascii.Error, ValueError):
                errors.append(f"{where}: {value!r} is not base64")
