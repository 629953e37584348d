"""The IAM statements the DynamoDB metadata store needs, as plain policy JSON: one source for the
CLI's least-privilege Lambda role (``targets`` lambda IAM) and the CDK ``AgentMetadataTable`` grants.

* runtime: a function reads agents, versions, pointers and key hashes (``GetItem``/``Query``, the
  GSI included) and writes only rate-limit counters (``CTR#...``) and API-key last use
  (``KEY#...``): ``UpdateItem`` is limited to those partition keys by ``dynamodb:LeadingKeys``.
* admin: what the CLI's store commands do on an existing table (deploy bookkeeping, keys, audit):
  item reads and writes plus the two describe calls ``store init`` makes. Creating, deleting or
  reshaping the table is left to whoever owns it (CloudFormation, or ``store init`` with its own
  credentials).
"""

from __future__ import annotations

from typing import Any

DYNAMODB_READ = ["dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query"]
# The runtime writes only rate-limit counters (CTR#...) and API-key last use (KEY#...): see store/dynamodb.py.
DYNAMODB_RUNTIME_WRITE_KEYS = ["CTR#*", "KEY#*"]
# LangGraph checkpoints and pending writes (store/dynamo_checkpoint.THREAD_PREFIX).
DYNAMODB_THREAD_KEYS = ["THREAD#*"]
DYNAMODB_THREAD_WRITE = ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem"]
DYNAMODB_ADMIN = [
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]


def index_arn(table_arn: str) -> str:
    """Every index of the table (queries on ``GSI1`` are authorised on the index ARN)."""
    return f"{table_arn}/index/*"


def runtime_statements(table_arn: str, *, threads: bool = False) -> list[dict[str, Any]]:
    """What a running function needs on the table (``threads``: it also keeps LangGraph threads)."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "MetadataRead",
            "Effect": "Allow",
            "Action": DYNAMODB_READ,
            "Resource": [table_arn, index_arn(table_arn)],
        },
        {
            "Sid": "MetadataRuntimeWrites",
            "Effect": "Allow",
            "Action": ["dynamodb:UpdateItem"],
            "Resource": [table_arn],
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": DYNAMODB_RUNTIME_WRITE_KEYS}},
        },
    ]
    if threads:
        statements.append(
            {
                "Sid": "ThreadCheckpoints",
                "Effect": "Allow",
                "Action": DYNAMODB_THREAD_WRITE,
                "Resource": [table_arn],
                "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": DYNAMODB_THREAD_KEYS}},
            }
        )
    return statements


def admin_statements(table_arn: str) -> list[dict[str, Any]]:
    """What the CLI (deploy, rollback, keys, audit) needs on an existing table."""
    return [
        {
            "Sid": "MetadataAdmin",
            "Effect": "Allow",
            "Action": DYNAMODB_ADMIN,
            "Resource": [table_arn, index_arn(table_arn)],
        }
    ]
