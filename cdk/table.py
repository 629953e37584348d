"""``AgentMetadataTable``: the DynamoDB metadata table (``dynamodb://`` store) as a CDK construct.

The key schema, GSI and TTL attribute come from ``agentdock.store.dynamo_schema``, the module the
store creates its table from; the grants come from ``agentdock.store.dynamo_policy``, the
statements the CLI's Lambda role carries. Point-in-time recovery and KMS encryption are on; the
table outlives its stack by default (it holds API-key hashes and the audit log).
"""

from __future__ import annotations

from typing import Any

from agentdock.cdk import nag
from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from agentdock.store import dynamo_schema as S
from agentdock.store.dynamo_policy import admin_statements, index_arn, runtime_statements

_INDEX_REASON = (
    "the metadata store queries its GSI1 index (agents, keys of an agent, audit); the wildcard "
    "is the index part of the ARN of this one table, as DynamoDB index ARNs require"
)


def _attr(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class AgentMetadataTable(Construct):
    """The metadata store's table. ``store_url`` is what ``AGENTDOCK_STORE`` / ``deploy.store`` take."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        deletion_protection: bool = False,
    ) -> None:
        super().__init__(scope, id)
        encryption = (
            dynamodb.TableEncryption.CUSTOMER_MANAGED
            if encryption_key is not None
            else dynamodb.TableEncryption.AWS_MANAGED
        )
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=_attr(S.PARTITION_KEY),
            sort_key=_attr(S.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=S.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=encryption,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
            deletion_protection=deletion_protection,
        )
        self.table.add_global_secondary_index(
            index_name=S.GSI1_NAME,
            partition_key=_attr(S.GSI1_PARTITION_KEY),
            sort_key=_attr(S.GSI1_SORT_KEY),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.encryption_key = encryption_key
        CfnOutput(self, "StoreUrl", value=self.store_url, description="AGENTDOCK_STORE for this table")

    @property
    def table_name(self) -> str:
        return self.table.table_name

    @property
    def table_arn(self) -> str:
        return self.table.table_arn

    @property
    def store_url(self) -> str:
        """``dynamodb://TABLE?region=REGION`` (tokens until deploy time)."""
        return f"dynamodb://{self.table.table_name}?region={Stack.of(self).region}"

    def grant_runtime(self, grantee: iam.IGrantable, *, threads: bool = False) -> list[iam.PolicyStatement]:
        """What a running function needs: reads (GSI included) and counter / key-use updates only;
        with ``threads``, also writes of its LangGraph checkpoint items (``THREAD#...`` keys)."""
        return self._grant(grantee, runtime_statements(self.table.table_arn, threads=threads))

    def grant_admin(self, grantee: iam.IGrantable) -> list[iam.PolicyStatement]:
        """What the CLI needs (deploy, rollback, keys, audit) on this table; not table deletion."""
        return self._grant(grantee, admin_statements(self.table.table_arn))

    def _grant(self, grantee: iam.IGrantable, statements: list[dict[str, Any]]) -> list[iam.PolicyStatement]:
        added = [iam.PolicyStatement.from_json(s) for s in statements]
        for statement in added:
            grantee.grant_principal.add_to_principal_policy(statement)
        if self.encryption_key is not None:
            # both roles write items (counters, key use; or everything), so both encrypt
            self.encryption_key.grant_encrypt_decrypt(grantee)
        self._acknowledge_index_wildcard(grantee)
        return added

    def _acknowledge_index_wildcard(self, grantee: iam.IGrantable) -> None:
        """Acknowledge the ``/index/*`` finding on the grantee's policy (where cdk-nag reports it)."""
        principal: Any = grantee.grant_principal
        policy = getattr(principal, "node", None) and principal.node.try_find_child("DefaultPolicy")
        if policy is not None:
            nag.acknowledge(
                policy, nag.wildcard_resource(self, index_arn(self.table.table_arn)), _INDEX_REASON
            )
