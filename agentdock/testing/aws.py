"""A typed stand-in for the Lambda target's AWS client bundle (``targets.lambda_.aws.AwsApi``).

fake = FakeAwsClients({"lambda": my_lambda_double})
Executor(fake, steps)                                    # no ``type: ignore`` needed
LambdaTarget(store=store, aws_factory=lambda region: fake)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentdock.targets.lambda_.aws import ServiceClients


@dataclass
class FakeAwsClients(ServiceClients):
    """One double per service name (``"lambda"``, ``"ecr"``, ``"iam"``, ``"sts"``...)."""

    clients: dict[str, Any] = field(default_factory=dict)
    region: str = "us-east-1"
    account: str = "123456789012"
    endpoint_override: bool = True  # a fake is never the real AWS: gates run locally

    def client(self, service: str) -> Any:
        try:
            return self.clients[service]
        except KeyError:
            raise KeyError(
                f"FakeAwsClients has no {service!r} client; pass it: FakeAwsClients({{{service!r}: ...}})"
            ) from None

    def account_id(self) -> str:
        return self.account

    def credentials(self) -> Any:
        return None
