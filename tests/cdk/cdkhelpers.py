"""Shared by the CDK tests (a module of its own: several test folders have a ``conftest``)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ACCOUNT, REGION = "111111111111", "eu-west-1"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/jwt-AbCdEf"
# A value the synth machine has in its environment: it must never reach a template.
JWT_VALUE = "jwt-value-that-must-never-appear-7c1f0e2d"

BUFFERED_DOCKFILE = f"""version: "1.0"
agent: {{name: quiet_summarizer, entrypoint: "agent:build_graph", framework: langgraph}}
model: {{provider: openai, name: gpt-4o-mini}}
io_schema:
  input: {{type: object, properties: {{text: {{type: string}}}}, required: [text]}}
  output: {{type: object, properties: {{summary: {{type: string}}}}, required: [summary]}}
auth:
  mode: jwt
  jwt: {{secret_key: "${{JWT_SECRET}}"}}
  api_keys: {{enabled: true}}
expose: {{rest: true, streaming: none}}
deploy:
  store: dynamodb://shared-meta?region={REGION}
  env: {{LOG_LEVEL: warning, REGION_LABEL: "${{STAGE:-eu}}"}}
  secrets:
    JWT_SECRET: aws-sm://{SECRET_ARN}
    OPENAI_API_KEY: aws-sm://prod/openai#api_key
    LANGFUSE_SECRET_KEY: ssm:///agents/langfuse
  lambda:
    architecture: x86_64
    memory_mb: 2048
    timeout_s: 120
    url_auth: aws_iam
    reserved_concurrency: 5
"""


@dataclass
class Synth:
    """The synthesized app: templates by stack name, the assembly folder, the app itself."""

    app: Any
    outdir: Path
    stacks: dict[str, Any]
    templates: dict[str, dict[str, Any]]
    agents: dict[str, Any]
    buffered_dockfile: Path

    def template(self, name: str) -> Any:
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[name])


def write_buffered_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "doc_summarizer" / "agent.py", root / "agent.py")
    (root / "Dockfile.yaml").write_text(BUFFERED_DOCKFILE)
    return root / "Dockfile.yaml"


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def only(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = list(resources(template, kind).values())
    assert len(found) == 1, f"{len(found)} {kind} resources"
    return found[0]
