"""The synthesized ``AgentMetadataTable`` is a table the store works on: its CloudFormation resource is
created by moto's CloudFormation (over HTTP), then the real ``DynamoDBStore`` initialises it (the
table exists: only the schema marker is written) and runs the calls that need the key schema, the
GSI and the TTL attribute. (moto's CloudFormation does not apply ``TimeToLiveSpecification``;
the template test checks it.)"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from cdkhelpers import Synth, resources

from agentdock.store.dynamodb import DynamoDBStore

pytestmark = pytest.mark.integration


def test_the_store_runs_on_the_table_cloudformation_creates(
    synth: Synth, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    [(logical, table)] = resources(synth.templates["Streaming"], "AWS::DynamoDB::Table").items()
    template: dict[str, Any] = {"Resources": {logical: table}}
    cfn = boto3.client("cloudformation", region_name="eu-west-1")
    cfn.create_stack(StackName="agentdock-cdk-table", TemplateBody=json.dumps(template))
    name = cfn.describe_stack_resource(StackName="agentdock-cdk-table", LogicalResourceId=logical)[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    described = boto3.client("dynamodb", region_name="eu-west-1").describe_table(TableName=name)["Table"]
    assert described["GlobalSecondaryIndexes"][0]["IndexName"] == "GSI1"

    store = DynamoDBStore(f"dynamodb://{name}?region=eu-west-1")
    store.init()
    store.ensure_agent("cdk_agent")
    version = store.create_version(
        "cdk_agent", content_hash="sha256:" + "0" * 64, target="lambda", spec={}, created_by="test"
    )
    assert version.number == 1
    assert [a.name for a in store.list_agents()] == ["cdk_agent"]  # a GSI1 query
    assert store.incr_counter("k", 60) == 1  # a counter item with the TTL attribute
