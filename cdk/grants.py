"""Read grants for exactly what an ``AgentFunction`` declares: its ``deploy.secrets`` references
(Secrets Manager / SSM) and a ``dynamodb://`` store that is not an ``AgentMetadataTable`` here."""

from __future__ import annotations

from collections.abc import Sequence

from agentdock.cdk import nag
from agentdock.cdk.settings import SecretRef
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from agentdock.store.dynamo_policy import index_arn, runtime_statements

_SECRET_SUFFIX_REASON = (
    "Secrets Manager appends 6 random characters to a secret's ARN; '-??????' matches exactly "
    "that suffix of this one named secret (declared in deploy.secrets)"
)


def _id(ref: SecretRef) -> str:
    return f"Secret{ref.var}"


def grant_secrets(scope: Construct, role: iam.IRole, refs: Sequence[SecretRef]) -> None:
    """``secretsmanager:GetSecretValue`` / ``ssm:GetParameter*`` on each declared reference, nothing more."""
    for ref in refs:
        if ref.service == "secretsmanager":
            secret = (
                secretsmanager.Secret.from_secret_complete_arn(scope, _id(ref), ref.name)
                if ref.is_arn
                else secretsmanager.Secret.from_secret_name_v2(scope, _id(ref), ref.name)
            )
            secret.grant_read(role)
            if not ref.is_arn:
                policy = role.node.find_child("DefaultPolicy")
                nag.acknowledge(
                    policy, nag.wildcard_resource(scope, f"{secret.secret_arn}-??????"), _SECRET_SUFFIX_REASON
                )
        else:
            name = ref.name.split(":parameter", 1)[1] if ref.is_arn else ref.name
            parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
                scope, _id(ref), parameter_name=name
            )
            parameter.grant_read(role)


def grant_store(scope: Construct, role: iam.IRole, store_url: str, *, threads: bool = False) -> None:
    """The runtime statements on a table named by a ``dynamodb://TABLE?region=R`` URL."""
    from agentdock.store.dynamodb import parse_url

    table, region, _endpoint = parse_url(store_url)
    arn = Stack.of(scope).format_arn(service="dynamodb", resource="table", resource_name=table, region=region)
    for statement in runtime_statements(arn, threads=threads):
        role.add_to_principal_policy(iam.PolicyStatement.from_json(statement))
    nag.acknowledge(
        role.node.find_child("DefaultPolicy"),
        nag.wildcard_resource(scope, index_arn(arn)),
        "the metadata store queries the GSI1 index of this one table (deploy.store)",
    )
