"""The deploy service: what the CLI, the CDK construct and a dashboard do beyond parsing and
printing (keys, deploy, rollback, promote, status), as plain functions over a store and a target.
Import rule: cli/dashboard -> ops -> targets/cdk -> build/runtime -> ..."""
