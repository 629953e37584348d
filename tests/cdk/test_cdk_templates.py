"""What the constructs synthesize: image function, alias, URL, grants, canary, table (one shared synth)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cdkhelpers import ACCOUNT, EXAMPLES, JWT_VALUE, REGION, SECRET_ARN, Synth, only, resources

from agentdock.build.context import prepare, read_context
from agentdock.build.flavours import LAMBDA_BUFFERED, LAMBDA_STREAM
from agentdock.spec import load_dockfile
from agentdock.store import dynamo_schema
from agentdock.store.dynamo_policy import admin_statements, runtime_statements

pytestmark = pytest.mark.functional


def function(synth: Synth, stack: str) -> dict[str, Any]:
    return only(synth.templates[stack], "AWS::Lambda::Function")["Properties"]


def policy_statements(synth: Synth, stack: str, role_prefix: str) -> list[dict[str, Any]]:
    policies = resources(synth.templates[stack], "AWS::IAM::Policy")
    [policy] = [p for p in policies.values() if p["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def resolved(synth: Synth, stack: str, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``statements`` (plain policy JSON with token strings) as the template spells them."""
    from aws_cdk import aws_iam as iam

    scope = synth.stacks[stack]
    return [scope.resolve(iam.PolicyStatement.from_json(s).to_statement_json()) for s in statements]


def test_image_functions_take_settings_from_the_dockfile_and_props(synth: Synth) -> None:
    invoice, quiet = function(synth, "Streaming"), function(synth, "Buffered")
    assert invoice["PackageType"] == quiet["PackageType"] == "Image"
    assert (invoice["FunctionName"], invoice["MemorySize"], invoice["Timeout"]) == (
        "invoice-copilot",
        1024,
        60,
    )
    assert invoice["Architectures"] == ["arm64"] and "ReservedConcurrentExecutions" not in invoice
    # deploy.lambda says 2048 MB; the memory_mb prop wins. Everything else is the Dockfile's.
    assert (quiet["MemorySize"], quiet["Timeout"], quiet["Architectures"]) == (1536, 120, ["x86_64"])
    assert quiet["ReservedConcurrentExecutions"] == 5


def test_the_image_asset_is_the_cli_render_for_the_right_platform(synth: Synth) -> None:
    for stack, agent, dockfile, flavour, platform in (
        (
            "Streaming",
            "invoice",
            EXAMPLES / "invoice_copilot" / "Dockfile.yaml",
            LAMBDA_STREAM,
            "linux/arm64",
        ),
        ("Buffered", "quiet", synth.buffered_dockfile, LAMBDA_BUFFERED, "linux/amd64"),
    ):
        manifest = json.loads((synth.outdir / f"{stack}.assets.json").read_text())
        [image] = manifest["dockerImages"].values()
        assert image["source"]["platform"] == platform
        folder = synth.outdir / image["source"]["directory"]
        expected = prepare(
            load_dockfile(dockfile, allow_unresolved=True, check_imports=False), flavour=flavour
        )
        assert read_context(folder) == expected.files  # byte for byte what `agentdock build` renders
        assert synth.agents[agent].content_hash == expected.content_hash
        assert (
            function(synth, stack)["Environment"]["Variables"]["AGENTDOCK_CONTENT_HASH"]
            == expected.content_hash
        )
        assert synth.agents[agent].context_dir.is_relative_to(synth.outdir / "agentdock-contexts")


def test_no_secret_value_reaches_a_template_or_an_asset(synth: Synth) -> None:
    for name, template in synth.templates.items():
        assert JWT_VALUE not in json.dumps(template), name
    for path in Path(synth.outdir).rglob("*"):
        if path.is_file():
            assert JWT_VALUE.encode() not in path.read_bytes(), path


def test_alias_live_points_at_the_published_version(synth: Synth) -> None:
    template = synth.template("Buffered")
    template.resource_count_is("AWS::Lambda::Version", 1)
    [version_id] = resources(synth.templates["Buffered"], "AWS::Lambda::Version")
    template.has_resource(
        "AWS::Lambda::Version", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]}},
    )


def test_url_invoke_mode_follows_the_flavour_and_cors_follows_expose(synth: Synth) -> None:
    streaming = only(synth.templates["Streaming"], "AWS::Lambda::Url")["Properties"]
    assert (streaming["InvokeMode"], streaming["AuthType"], streaming["Qualifier"]) == (
        "RESPONSE_STREAM",
        "NONE",
        "live",
    )
    assert streaming["Cors"] == {
        "AllowOrigins": ["https://billing.example.com"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["authorization", "content-type", "x-api-key", "x-trace-id", "last-event-id"],
        "ExposeHeaders": [
            "content-location",
            "location",
            "x-trace-id",
            "retry-after",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ],
        "MaxAge": 600,
    }
    env = function(synth, "Streaming")["Environment"]["Variables"]
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"  # what LWA in the image must be told
    buffered = only(synth.templates["Buffered"], "AWS::Lambda::Url")["Properties"]
    assert (buffered["InvokeMode"], buffered["AuthType"]) == ("BUFFERED", "AWS_IAM")
    assert "Cors" not in buffered
    # IAM auth: no public invoke permission; NONE: exactly the URL's public permission pair
    assert not resources(synth.templates["Buffered"], "AWS::Lambda::Permission")
    perms = resources(synth.templates["Streaming"], "AWS::Lambda::Permission").values()
    assert sorted(p["Properties"]["Action"] for p in perms) == [
        "lambda:InvokeFunction",
        "lambda:InvokeFunctionUrl",
    ]


def test_secret_grants_are_exactly_the_declared_references(synth: Synth) -> None:
    statements = policy_statements(synth, "Buffered", "QuietRole")
    sm = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
    assert all(s["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"] for s in sm)
    by_name = {
        "arn:": SECRET_ARN,  # given as a full ARN: used as is
        "name": {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    f":secretsmanager:{REGION}:{ACCOUNT}:secret:prod/openai-??????",
                ],
            ]
        },
    }
    granted = [r for s in sm for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert sorted(map(json.dumps, granted)) == sorted(map(json.dumps, by_name.values()))
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in s["Action"])]
    assert len(ssm) == 1
    assert ssm[0]["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, f":ssm:{REGION}:{ACCOUNT}:parameter/agents/langfuse"],
        ]
    }
    actions = sorted(
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    # logs + the store's runtime statements + these two secrets + one parameter: nothing else
    assert [a for a in actions if a.split(":")[0] not in ("logs", "dynamodb", "secretsmanager", "ssm")] == []
    assert JWT_VALUE not in json.dumps(statements)


def test_store_grants_are_the_cli_roles_statements(synth: Synth) -> None:
    table = synth.agents["table"].table
    streaming = policy_statements(synth, "Streaming", "InvoiceRole")
    # invoice_copilot keeps its LangGraph threads in the store table (state: {checkpointer: store}):
    # the write grant on thread items (THREAD#...) comes with them
    for statement in resolved(synth, "Streaming", runtime_statements(table.table_arn, threads=True)):
        assert statement in streaming
    sids = {s.get("Sid") for s in streaming}
    assert "MetadataRuntimeWrites" in sids and "ThreadCheckpoints" in sids
    external = synth.stacks["Buffered"].format_arn(
        service="dynamodb", resource="table", resource_name="shared-meta", region=REGION
    )
    quiet = policy_statements(synth, "Buffered", "QuietRole")
    for statement in resolved(synth, "Buffered", runtime_statements(external)):
        assert statement in quiet
    assert "ThreadCheckpoints" not in {s.get("Sid") for s in quiet}  # no state block: no thread grant
    ci = policy_statements(synth, "Streaming", "CiRole")
    assert ci == resolved(synth, "Streaming", admin_statements(table.table_arn))
    env = function(synth, "Buffered")["Environment"]["Variables"]
    assert env["AGENTDOCK_STORE"] == f"dynamodb://shared-meta?region={REGION}"
    assert json.loads(env["AGENTDOCK_SECRET_REFS"])["OPENAI_API_KEY"] == "aws-sm://prod/openai#api_key"


def test_table_schema_is_the_stores(synth: Synth) -> None:
    table = only(synth.templates["Streaming"], "AWS::DynamoDB::Table")
    props = table["Properties"]
    store = dynamo_schema.create_table_args("t")
    assert props["KeySchema"] == store["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(store["AttributeDefinitions"], key=str)
    assert [
        {k: g[k] for k in ("IndexName", "KeySchema", "Projection")} for g in props["GlobalSecondaryIndexes"]
    ] == store["GlobalSecondaryIndexes"]
    assert props["BillingMode"] == store["BillingMode"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": dynamo_schema.TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}  # KMS, the AWS managed key (aws/dynamodb)
    assert table["DeletionPolicy"] == "Retain"


def test_canary_deployment_rolls_back_on_errors_and_5xx(synth: Synth) -> None:
    template = synth.template("Streaming")
    group = only(synth.templates["Streaming"], "AWS::CodeDeploy::DeploymentGroup")["Properties"]
    assert group["DeploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["AutoRollbackConfiguration"]["Enabled"] is True
    assert set(group["AutoRollbackConfiguration"]["Events"]) == {
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_REQUEST",
        "DEPLOYMENT_STOP_ON_ALARM",
    }
    alarms = resources(synth.templates["Streaming"], "AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == {"Errors", "Url5xxCount"}
    assert sorted(a["Name"]["Ref"] for a in group["AlarmConfiguration"]["Alarms"]) == sorted(alarms)
    url5xx = next(a["Properties"] for a in alarms.values() if a["Properties"]["MetricName"] == "Url5xxCount")
    assert {d["Name"]: d["Value"] for d in url5xx["Dimensions"]} == {
        "FunctionName": "invoice-copilot",
        "Resource": "invoice-copilot:live",
    }
    template.has_resource("AWS::Lambda::Alias", {"UpdatePolicy": {"CodeDeployLambdaAliasUpdate": {}}})
    assert not resources(synth.templates["Buffered"], "AWS::CodeDeploy::DeploymentGroup")


def test_outputs_and_an_existing_ecr_image(synth: Synth) -> None:
    outputs = synth.templates["Streaming"]["Outputs"]
    assert {re.sub(r"^Invoice(\w+?)[0-9A-F]{8}$", r"\1", k) for k in outputs} >= {
        "Url",
        "AliasArn",
        "FunctionName",
    }
    url_output = next(v for k, v in outputs.items() if k.startswith("InvoiceUrl"))
    assert url_output["Value"] == {
        "Fn::GetAtt": [next(iter(resources(synth.templates["Streaming"], "AWS::Lambda::Url"))), "FunctionUrl"]
    }
    doc = function(synth, "FromEcr")
    image_uri = json.dumps(doc["Code"]["ImageUri"])
    assert "agents/doc-summarizer" in image_uri and ":v7" in image_uri
    assets = synth.outdir / "FromEcr.assets.json"
    assert not assets.exists() or not json.loads(assets.read_text()).get("dockerImages")
    assert "AGENTDOCK_CONTENT_HASH" not in doc["Environment"]["Variables"]
    agent = synth.agents["invoice"]
    assert (
        agent.alias.alias_name == "live"
        and agent.alias.version.node.path == agent.function.current_version.node.path
    )
    assert agent.url.node.path.startswith(agent.alias.node.path + "/")


def test_deploy_env_is_in_the_function_environment(synth: Synth) -> None:
    env = function(synth, "Buffered")["Environment"]["Variables"]
    assert {k: v for k, v in env.items() if k != "AGENTDOCK_CONTENT_HASH"} == {
        "LOG_LEVEL": "warning",  # deploy.env, ${STAGE:-eu} resolved at synth
        "REGION_LABEL": "eu",
        "AWS_LWA_INVOKE_MODE": "buffered",
        "AGENTDOCK_STORE": f"dynamodb://shared-meta?region={REGION}",
        "AGENTDOCK_SECRET_REFS": env["AGENTDOCK_SECRET_REFS"],
    }
    assert "STAGE" not in synth.agents["quiet"].settings.env_vars  # not a run-time reference
