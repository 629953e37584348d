"""Low-level DynamoDB I/O for ``dynamodb.DynamoDBStore``: a thread-safe low-level client (boto3
resources are not thread-safe), plain-Python <-> attribute-value conversion, conditional writes
that report failure as a value, paginated queries, table creation, and one error mapping
(missing table -> ``StoreNotInitialized`` with the fix; unreachable/unauthorised -> ``StoreError``).

``None`` values are never stored: an absent attribute means None, so conditions can use
``attribute_not_exists``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from agentdock.errors import StoreError, StoreNotInitialized
from agentdock.store import migrations
from agentdock.store.base import redact_url
from agentdock.store.dynamo_schema import GSI1_NAME, GSI1_PARTITION_KEY, TTL_ATTRIBUTE, create_table_args

Client = Any  # botocore DynamoDB client (boto3 stubs are not a dependency)


def ts(value: datetime | None) -> str | None:
    """Fixed-width UTC ISO text: string order is time order (used in conditions and sort keys)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _to_ddb(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _from_ddb(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


_CLIENT_LOCK = threading.Lock()


def _new_client(url: str, region: str | None, endpoint_url: str | None) -> Client:
    """A client from a fresh boto3 session, so credentials and region are read from the environment
    now (a shared session would cache the first ones it saw)."""
    import boto3
    from botocore.config import Config

    config = Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 6})
    try:
        return boto3.session.Session().client(
            "dynamodb", region_name=region, endpoint_url=endpoint_url, config=config
        )
    except Exception as exc:  # NoRegionError and friends
        raise StoreError(
            url,
            f"cannot create a DynamoDB client: {exc}",
            hint="add ?region=REGION to the URL or set AWS_DEFAULT_REGION",
        ) from None


class DynamoIO:
    def __init__(
        self, table: str, url: str, *, client: Client | None, region: str | None, endpoint_url: str | None
    ) -> None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self.table = table
        self.url = url
        self._client = client
        self._region = region
        self._endpoint_url = endpoint_url
        self._ser = TypeSerializer()
        self._de = TypeDeserializer()
        self.checked = False

    # --- plumbing -------------------------------------------------------------------------
    @property
    def client(self) -> Client:
        if self._client is None:
            with (
                _CLIENT_LOCK
            ):  # boto3 sessions are not thread-safe; the first call may come from many threads
                if self._client is None:
                    self._client = _new_client(self.url, self._region, self._endpoint_url)
        return self._client

    def _fix(self) -> str:
        return f"run `agentdock store init --store {redact_url(self.url)}`"

    def call(self, op: str, *, ready: bool = True, **kwargs: Any) -> dict[str, Any] | None:
        """Run one API call; None when a ConditionExpression failed."""
        from botocore.exceptions import BotoCoreError, ClientError

        if ready and not self.checked:
            self._check_ready()
        try:
            result: dict[str, Any] = getattr(self.client, op)(**kwargs)
            return result
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                return None
            if code == "ResourceNotFoundException":
                raise StoreNotInitialized(
                    self.table, f"DynamoDB table {self.table} does not exist", hint=self._fix()
                ) from None
            raise StoreError(self.table, f"DynamoDB {op} failed: {code}: {exc}") from None
        except BotoCoreError as exc:
            raise StoreError(
                self.url, f"DynamoDB is unavailable: {exc}", hint="check credentials, region and endpoint_url"
            ) from None

    def ensure_ready(self) -> None:
        """Raise StoreNotInitialized (with the fix) now unless the table has the current schema."""
        if not self.checked:
            self._check_ready()

    def _check_ready(self) -> None:
        out = self.call(
            "get_item",
            ready=False,
            TableName=self.table,
            Key=self.key({"PK": "META", "SK": "SCHEMA"}),
            ConsistentRead=True,
        )
        item = self.item((out or {}).get("Item"))
        if item is None or int(item.get("version", 0)) < migrations.LATEST:
            raise StoreNotInitialized(
                self.table, f"table {self.table} has no current agentdock schema", hint=self._fix()
            )
        self.checked = True

    def key(self, key: dict[str, str]) -> dict[str, Any]:
        return {k: self._ser.serialize(v) for k, v in key.items()}

    def item(self, raw: dict[str, Any] | None) -> dict[str, Any] | None:
        if raw is None:
            return None
        return {k: _from_ddb(self._de.deserialize(v)) for k, v in raw.items()}

    def _values(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(_to_ddb(v)) for k, v in values.items()}

    # --- operations -----------------------------------------------------------------------
    def put(self, item: dict[str, Any], *, condition: str | None = None, ready: bool = True) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Item": self._values({k: v for k, v in item.items() if v is not None}),
        }
        if condition:
            kwargs["ConditionExpression"] = condition
        return self.call("put_item", ready=ready, **kwargs) is not None

    def update(
        self,
        key: dict[str, str],
        expression: str,
        values: dict[str, Any],
        *,
        names: dict[str, str] | None = None,
        condition: str | None = None,
        returns: str = "NONE",
    ) -> dict[str, Any] | None:
        """The returned attributes ({} with returns NONE), or None when ``condition`` failed."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": self.key(key),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": self._values(values),
            "ReturnValues": returns,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if condition:
            kwargs["ConditionExpression"] = condition
        out = self.call("update_item", **kwargs)
        return None if out is None else (self.item(out.get("Attributes")) or {})

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        out = self.call("get_item", TableName=self.table, Key=self.key(key), ConsistentRead=True)
        return self.item((out or {}).get("Item"))

    def delete(self, key: dict[str, str]) -> None:
        self.call("delete_item", TableName=self.table, Key=self.key(key))

    def _query(self, limit: int | None, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            out = self.call("query", TableName=self.table, **kwargs) or {}
            items += [i for i in (self.item(raw) for raw in out.get("Items", [])) if i is not None]
            if "LastEvaluatedKey" not in out or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def query_prefix(
        self, pk: str, sk_prefix: str, *, newest_first: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        cond, values = "PK = :pk", {":pk": pk}
        if sk_prefix:
            cond, values = cond + " AND begins_with(SK, :sk)", values | {":sk": sk_prefix}
        return self._query(
            limit,
            KeyConditionExpression=cond,
            ExpressionAttributeValues=self._values(values),
            ScanIndexForward=not newest_first,
            ConsistentRead=True,
        )

    def query_index(
        self, gsi1pk: str, *, newest_first: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        return self._query(
            limit,
            IndexName=GSI1_NAME,
            KeyConditionExpression=f"{GSI1_PARTITION_KEY} = :pk",
            ExpressionAttributeValues=self._values({":pk": gsi1pk}),
            ScanIndexForward=not newest_first,
        )

    def create_table(self) -> None:
        """Create the table (on-demand, GSI1, TTL on ``ttl``) unless it exists; wait until active."""
        exists = True
        try:
            self.call("describe_table", ready=False, TableName=self.table)
        except StoreNotInitialized:
            exists = False
        if not exists:
            self.call("create_table", ready=False, **create_table_args(self.table))
        self.client.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        ttl = self.call("describe_time_to_live", ready=False, TableName=self.table) or {}
        if ttl.get("TimeToLiveDescription", {}).get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            self.call(
                "update_time_to_live",
                ready=False,
                TableName=self.table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
