"""AWS CDK constructs for app repos (``pip install 'agentdock[cdk]'``).

    from agentdock.cdk import AgentFunction, AgentMetadataTable

    table = AgentMetadataTable(stack, "Metadata")
    agent = AgentFunction(stack, "Agent", dockfile="agents/invoice/Dockfile.yaml", metadata_table=table)
    agent.url.url  # the function URL on alias ``live``

``AgentFunction`` renders the build context with the CLI's renderer and settings from the
Dockfile's ``deploy.lambda`` block; ``AgentMetadataTable`` is the ``dynamodb://`` store's table.
Nothing in the runtime imports this package (aws-cdk-lib is a deploy-time dependency only).
"""

from agentdock.cdk.deployment import PRESETS
from agentdock.cdk.function import AgentFunction
from agentdock.cdk.table import AgentMetadataTable

__all__ = ["PRESETS", "AgentFunction", "AgentMetadataTable"]
