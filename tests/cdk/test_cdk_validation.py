"""Every synthesized template passes cfn-lint (no errors; the one warning explained) and cdk-nag's
AwsSolutions checks (no finding left; each acknowledged one specific and with its reason), and the
example app in ``examples/cdk_app`` synthesizes offline as a new user would run it."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cdkhelpers import EXAMPLES, Synth

pytestmark = pytest.mark.functional

# cfn-lint warnings we accept, each with why. Anything else fails the test.
ACCEPTED_WARNINGS = {
    # aws-cdk-lib makes a Lambda function DependsOn its role and the role's default policy so the
    # policy exists before the function first runs; the Role's GetAtt already orders the role
    # itself, which is all W3005 points out. Harmless and not ours to change.
    "W3005": "aws-cdk-lib's explicit DependsOn of a function on its execution role",
}
# Only specific findings may be acknowledged (no blanket rule id), each with a real reason.
ACK_ID = re.compile(r"^AwsSolutions-IAM[45]\[(Resource|Policy)::.+\]$")


@pytest.fixture(scope="module")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    spec = importlib.util.spec_from_file_location("cdk_example_app", EXAMPLES / "cdk_app" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outdir = tmp_path_factory.mktemp("example") / "cdk.out"
    app = module.build(outdir=str(outdir))  # registers AwsSolutionsChecks: synth fails on a finding
    app.synth()
    return app, outdir


def lint(template: dict[str, Any]) -> list[Any]:
    from cfnlint.api import lint as cfn_lint
    from cfnlint.config import ManualArgs

    return cfn_lint(json.dumps(template), config=ManualArgs(regions=["eu-west-1", "us-east-1"]))


def all_templates(synth: Synth, example_outdir: Path) -> dict[str, dict[str, Any]]:
    found = dict(synth.templates)
    for path in example_outdir.glob("*.template.json"):
        found[f"example:{path.name}"] = json.loads(path.read_text())
    return found


def test_cfn_lint_accepts_every_template(synth: Synth, example_app: tuple[Any, Path]) -> None:
    templates = all_templates(synth, example_app[1])
    assert len(templates) == 4
    for name, template in templates.items():
        matches = lint(template)
        errors = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
        assert errors == [], name
        unexplained = [f"{m.rule.id} {m.message}" for m in matches if m.rule.id not in ACCEPTED_WARNINGS]
        assert unexplained == [], name


def test_cdk_nag_finds_nothing_unacknowledged(synth: Synth, example_app: tuple[Any, Path]) -> None:
    from cdk_nag import AwsSolutionsChecks

    for app in (synth.app, example_app[0]):
        report = AwsSolutionsChecks().validate_scope(app)
        findings = [
            (v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations
        ]
        assert findings == []
        assert report.success


def test_every_acknowledgment_is_specific_and_has_a_reason(synth: Synth) -> None:
    from aws_cdk import Validations

    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    acks: dict[str, str] = {}
    for construct in synth.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == key:
                acks.update(
                    {re.sub(r"^annotation::", "", k, flags=re.IGNORECASE): v for k, v in entry.data.items()}
                )
    assert acks, "the constructs acknowledge their wildcard / managed-policy findings"
    for rule, reason in acks.items():
        assert ACK_ID.match(rule), rule
        assert len(reason) > 40, (rule, reason)
    acknowledged = "\n".join(acks)
    assert "/index/*" in acknowledged  # GSI queries (table grants)
    assert "prod/openai-??????" in acknowledged  # the named secret's random suffix
    assert "AWSCodeDeployRoleForLambdaLimited" in acknowledged  # CodeDeploy's service role


def test_the_example_app_streams_and_writes_cdk_out(example_app: tuple[Any, Path]) -> None:
    outdir = example_app[1]
    [template_path] = outdir.glob("*.template.json")
    template = json.loads(template_path.read_text())
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::Alias",
        "AWS::Lambda::Url",
        "AWS::DynamoDB::Table",
    } <= kinds
    [url] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Url"]
    assert url["Properties"]["InvokeMode"] == "RESPONSE_STREAM"
    assert (outdir / "manifest.json").is_file() and any((outdir / "agentdock-contexts").rglob("Dockerfile"))
