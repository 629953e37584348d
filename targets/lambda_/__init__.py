"""The AWS Lambda target: container-image function, immutable versions, alias ``live``, function
URL. Modules by role: ``target`` (the class), ``model`` (what should exist), ``observe`` (what
exists), ``plan`` + ``routes`` (the frozen calls), ``execute`` (the executor), ``steps`` (the
non-AWS steps), ``gate`` (health gates), ``ops`` (rollback/promote platform half, status, destroy),
``aws`` (clients), ``iam`` and ``image`` (role and ECR helpers)."""

from agentdock.targets.lambda_.target import LambdaTarget

__all__ = ["LambdaTarget"]
