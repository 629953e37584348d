"""One stack, both AgentDock constructs: the doc_summarizer agent on Lambda (SSE, so its function
URL streams) reading an AgentMetadataTable, shifted to each new version by a CodeDeploy canary.

    pip install 'agentdock[cdk]'
    python app.py          # or: cdk synth  (writes cdk.out/, no AWS account needed)
    cdk deploy             # needs Docker (the image is built from the rendered context) and AWS credentials

cdk-nag's AwsSolutions checks run when cdk-nag is installed (``pip install cdk-nag``).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402
from agentdock.cdk import AgentFunction, AgentMetadataTable  # noqa: E402
from constructs import Construct  # noqa: E402

HERE = Path(__file__).resolve().parent
DOCKFILE = HERE.parent / "doc_summarizer" / "Dockfile.yaml"


class AgentStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        table = AgentMetadataTable(self, "Metadata")
        self.agent = AgentFunction(
            self,
            "Summarizer",
            dockfile=DOCKFILE,
            metadata_table=table,
            deployment="Canary10Percent5Minutes",
        )


def build(outdir: str | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir)
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    env = cdk.Environment(account=account, region=region) if account and region else None
    AgentStack(app, "DocSummarizerAgent", env=env)
    try:
        from cdk_nag import AwsSolutionsChecks
    except ImportError:
        pass
    else:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build(outdir=os.environ.get("CDK_OUTDIR") or str(HERE / "cdk.out")).synth()
