"""The DynamoDB metadata table's shape, in one place: the store creates it from these, the CDK
``AgentMetadataTable`` declares it from these, so a table made either way is the same table.

Kept free of boto3 (plain data) so ``agentdock.cdk`` and the targets can read it cheaply.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "PK"
SORT_KEY = "SK"
GSI1_NAME = "GSI1"  # the three listings that are not per-partition (agents, keys of an agent, audit)
GSI1_PARTITION_KEY = "GSI1PK"
GSI1_SORT_KEY = "GSI1SK"
TTL_ATTRIBUTE = "ttl"  # epoch seconds; set on rate-limit counters only
BILLING_MODE = "PAY_PER_REQUEST"
# Every key attribute is a string.
KEY_ATTRIBUTES = (PARTITION_KEY, SORT_KEY, GSI1_PARTITION_KEY, GSI1_SORT_KEY)


def key_schema(partition: str, sort: str) -> list[dict[str, str]]:
    return [{"AttributeName": partition, "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}]


def create_table_args(table: str) -> dict[str, Any]:
    """``CreateTable`` arguments (the same shape CloudFormation's ``AWS::DynamoDB::Table`` uses)."""
    return {
        "TableName": table,
        "BillingMode": BILLING_MODE,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in KEY_ATTRIBUTES],
        "KeySchema": key_schema(PARTITION_KEY, SORT_KEY),
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI1_NAME,
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": key_schema(GSI1_PARTITION_KEY, GSI1_SORT_KEY),
            }
        ],
    }
