"""The least-privilege execution role AgentDock creates when the Dockfile names none.

Pure: policy documents are computed from the model and the account id. The role may write its own
log group, read the metadata table (when the function has a DynamoDB store) and read exactly the
secrets ``deploy.secrets`` declares (Secrets Manager / SSM), nothing else. The Lambda service
pulls the ECR image with the deployer's permissions, so the role needs no ECR access.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from agentdock.targets.lambda_.model import LambdaModel

from agentdock.store.dynamo_policy import runtime_statements

TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def role_arn(model: LambdaModel, account_id: str) -> str:
    """The execution role's ARN: the given one, or the one AgentDock creates."""
    return model.role_arn or f"arn:{partition(model.region)}:iam::{account_id}:role/{model.role_name}"


def role_policy(model: LambdaModel, account_id: str) -> dict[str, Any]:
    """The inline policy of the created role (statements sorted, so equal models compare equal)."""
    part, region = partition(model.region), model.region
    log_group = f"arn:{part}:logs:{region}:{account_id}:log-group:/aws/lambda/{model.function_name}"
    statements: list[dict[str, Any]] = [
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": [log_group]},
        {
            "Sid": "LogEvents",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{log_group}:*"],
        },
    ]
    table = _dynamodb_table_arn(model.store_url, part, region, account_id)
    if table:
        statements.extend(runtime_statements(table, threads=model.threads_in_store))
    secret_arns, parameter_arns = _secret_resources(model.secrets, part, region, account_id)
    if secret_arns:
        statements.append(
            {
                "Sid": "SecretsRead",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": secret_arns,
            }
        )
    if parameter_arns:
        statements.append(
            {
                "Sid": "ParametersRead",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": parameter_arns,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _dynamodb_table_arn(store_url: str | None, part: str, region: str, account_id: str) -> str | None:
    if not store_url or not store_url.startswith("dynamodb://"):
        return None
    parts = urlsplit(store_url)
    table = parts.netloc or parts.path.lstrip("/")
    table_region = parse_qs(parts.query).get("region", [region])[0]
    return f"arn:{part}:dynamodb:{table_region}:{account_id}:table/{table}"


def _secret_resources(
    secrets: dict[str, str], part: str, region: str, account_id: str
) -> tuple[list[str], list[str]]:
    """ARNs for ``aws-sm://name`` (Secrets Manager adds a 6-char suffix: ``-??????``) and
    ``ssm://name`` references; a ``#json-key`` suffix selects a field and is not part of the name."""
    sm: set[str] = set()
    ssm: set[str] = set()
    for ref in secrets.values():
        scheme, _, rest = ref.partition("://")
        name = rest.split("#", 1)[0]
        if not name:
            continue
        if scheme == "aws-sm":
            sm.add(
                name
                if name.startswith("arn:")
                else f"arn:{part}:secretsmanager:{region}:{account_id}:secret:{name}-??????"
            )
        elif scheme == "ssm":
            ssm.add(
                name
                if name.startswith("arn:")
                else f"arn:{part}:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"
            )
    return sorted(sm), sorted(ssm)
