"""Fixtures for the CDK constructs: ONE app with three stacks, synthesized once per session.

Synthesis runs aws-cdk-lib in node through jsii (seconds per app), so every template test reads
the same cloud assembly:

* ``Streaming``: the invoice_copilot example (SSE, CORS) + an ``AgentMetadataTable`` + a CodeDeploy
  canary, and a CI role with ``grant_admin``;
* ``Buffered``: an agent that does not stream, with Secrets Manager / SSM references, an external
  ``dynamodb://`` store, IAM URL auth, x86_64 and props overriding the Dockfile;
* ``FromEcr``: an image already in ECR (no asset, no render).
"""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

pytest.importorskip("aws_cdk", reason="the cdk extra is not installed (pip install 'agentdock[cdk]')")

from cdkhelpers import ACCOUNT, EXAMPLES, JWT_VALUE, REGION, Synth, write_buffered_project  # noqa: E402


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    import aws_cdk as cdk
    from agentdock.cdk import AgentFunction, AgentMetadataTable
    from aws_cdk import aws_ecr as ecr
    from aws_cdk import aws_iam as iam

    home = tmp_path_factory.mktemp("home")
    saved = {k: os.environ.get(k) for k in ("AGENTDOCK_HOME", "JWT_SECRET", "AGENTDOCK_WHEEL")}
    os.environ.update({"AGENTDOCK_HOME": str(home), "JWT_SECRET": JWT_VALUE})
    os.environ.pop("AGENTDOCK_WHEEL", None)
    try:
        outdir = tmp_path_factory.mktemp("cdk") / "cdk.out"
        buffered = write_buffered_project(tmp_path_factory.mktemp("quiet"))
        app = cdk.App(outdir=str(outdir))
        env = cdk.Environment(account=ACCOUNT, region=REGION)

        streaming = cdk.Stack(app, "Streaming", env=env)
        table = AgentMetadataTable(streaming, "Metadata")
        invoice = AgentFunction(
            streaming,
            "Invoice",
            dockfile=EXAMPLES / "invoice_copilot" / "Dockfile.yaml",
            metadata_table=table,
            deployment="Canary10Percent5Minutes",
        )
        table.grant_admin(iam.Role(streaming, "CiRole", assumed_by=iam.AccountPrincipal(ACCOUNT)))

        quiet_stack = cdk.Stack(app, "Buffered", env=env)
        quiet = AgentFunction(quiet_stack, "Quiet", dockfile=buffered, memory_mb=1536)

        ecr_stack = cdk.Stack(app, "FromEcr", env=env)
        repo = ecr.Repository.from_repository_name(ecr_stack, "Repo", "agents/doc-summarizer")
        from_ecr = AgentFunction(
            ecr_stack,
            "Doc",
            dockfile=EXAMPLES / "doc_summarizer" / "Dockfile.yaml",
            image_repository=repo,
            image_tag="v7",
        )
        assembly = app.synth()
        stacks = {"Streaming": streaming, "Buffered": quiet_stack, "FromEcr": ecr_stack}
        templates = {name: assembly.get_stack_by_name(name).template for name in stacks}
        yield Synth(
            app,
            outdir,
            stacks,
            templates,
            {"invoice": invoice, "quiet": quiet, "from_ecr": from_ecr, "table": table},
            buffered,
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
