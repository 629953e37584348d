"""Acknowledged cdk-nag (``AwsSolutionsChecks``) findings, each with the reason it is acceptable.

Uses aws-cdk-lib's own ``Validations.of(...).acknowledge`` (what cdk-nag 3 reads), so the
constructs need no cdk-nag import: an app that runs cdk-nag sees these findings acknowledged with
their reasons, an app that does not pays nothing. Findings are acknowledged one by one, on the
construct they concern: a new wildcard or managed policy still shows up.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

IAM4 = "AwsSolutions-IAM4"  # AWS managed policy
IAM5 = "AwsSolutions-IAM5"  # wildcard in an IAM statement


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def wildcard_resource(scope: IConstruct, resource: str) -> str:
    """The IAM5 finding id of a resource ARN (tokens flattened the way cdk-nag flattens them)."""
    return f"{IAM5}[Resource::{_flatten(Stack.of(scope).resolve(resource))}]"


def managed_policy(name: str) -> str:
    """The IAM4 finding id of an AWS managed policy attached by aws-cdk-lib."""
    return f"{IAM4}[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]"


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(i) for i in items)
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
    raise ValueError(f"cannot flatten {node!r} for a cdk-nag finding id")
