"""Gradual deployment of an ``AgentFunction``'s alias through CodeDeploy, rolled back by alarms.

CodeDeploy shifts the alias's traffic to the new version by the chosen preset; an alarm on the
alias's errors or on its function URL's 5xx responses stops the shift and moves the alias back
(``auto_rollback``). The presets are CodeDeploy's own Lambda configurations, accepted either as
``LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES`` or by their CodeDeploy name
(``"Canary10Percent5Minutes"``, ``"CodeDeployDefault.LambdaCanary10Percent5Minutes"``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from agentdock.errors import CdkConfigError

_C = codedeploy.LambdaDeploymentConfig
PRESETS: dict[str, codedeploy.ILambdaDeploymentConfig] = {
    "AllAtOnce": _C.ALL_AT_ONCE,
    "Canary10Percent5Minutes": _C.CANARY_10_PERCENT_5_MINUTES,
    "Canary10Percent10Minutes": _C.CANARY_10_PERCENT_10_MINUTES,
    "Canary10Percent15Minutes": _C.CANARY_10_PERCENT_15_MINUTES,
    "Canary10Percent30Minutes": _C.CANARY_10_PERCENT_30_MINUTES,
    "Linear10PercentEvery1Minute": _C.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    "Linear10PercentEvery2Minutes": _C.LINEAR_10_PERCENT_EVERY_2_MINUTES,
    "Linear10PercentEvery3Minutes": _C.LINEAR_10_PERCENT_EVERY_3_MINUTES,
    "Linear10PercentEvery10Minutes": _C.LINEAR_10_PERCENT_EVERY_10_MINUTES,
}
_CODEDEPLOY_PREFIX = "CodeDeployDefault.Lambda"

Deployment = str | codedeploy.ILambdaDeploymentConfig


def deployment_config(value: Deployment) -> codedeploy.ILambdaDeploymentConfig:
    """A preset by name, or a deployment config object as given."""
    if not isinstance(value, str):
        return value
    name = value.removeprefix(_CODEDEPLOY_PREFIX)
    if name not in PRESETS:
        raise CdkConfigError(
            "AgentFunction.deployment",
            f"unknown deployment preset {value!r}",
            hint="one of: " + ", ".join(PRESETS) + " (or a codedeploy.LambdaDeploymentConfig)",
        )
    return PRESETS[name]


def rollback_alarms(scope: Construct, function_name: str, alias: lambda_.Alias) -> list[cloudwatch.Alarm]:
    """Alarms that stop a traffic shift: any function error on the alias, any 5xx from its URL
    (the URL's 5xx also counts timeouts and throttles, which the function never sees)."""
    minute = Duration.minutes(1)
    errors = alias.metric_errors(period=minute, statistic="Sum")
    url_5xx = cloudwatch.Metric(
        namespace="AWS/Lambda",
        metric_name="Url5xxCount",
        dimensions_map={"FunctionName": function_name, "Resource": f"{function_name}:{alias.alias_name}"},
        period=minute,
        statistic="Sum",
    )
    alarms = []
    for id_, metric, what in (
        ("ErrorsAlarm", errors, "function errors"),
        ("Url5xxAlarm", url_5xx, "URL 5xx"),
    ):
        alarms.append(
            cloudwatch.Alarm(
                scope,
                id_,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{what} on {function_name}:{alias.alias_name}: CodeDeploy rolls the alias back",
            )
        )
    return alarms


def gradual_deployment(
    scope: Construct,
    alias: lambda_.Alias,
    *,
    function_name: str,
    config: Deployment,
    extra_alarms: Sequence[cloudwatch.IAlarm] = (),
) -> codedeploy.LambdaDeploymentGroup:
    """A deployment group that shifts ``alias`` by ``config`` and rolls back on any alarm."""
    alarms: list[cloudwatch.IAlarm] = [*rollback_alarms(scope, function_name, alias), *extra_alarms]
    return codedeploy.LambdaDeploymentGroup(
        scope,
        "Deployment",
        alias=alias,
        deployment_config=deployment_config(config),
        alarms=alarms,
        auto_rollback=codedeploy.AutoRollbackConfig(
            failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
        ),
    )
