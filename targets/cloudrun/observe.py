"""What exists before a deploy, read-only: the referenced secrets, and the version (and revision)
an earlier deploy of the same content left behind."""

from __future__ import annotations

from agentdock.targets.cloudrun.client import CloudRunClient
from agentdock.targets.cloudrun.model import CloudRunModel
from agentdock.targets.cloudrun.ops import revision_ready
from agentdock.targets.release import Release

from agentdock.errors import GoogleSecretMissing


def check_secrets(client: CloudRunClient, model: CloudRunModel) -> None:
    """Every referenced secret version must exist and be enabled: refuse, naming each, before any
    change (the revision would never become Ready otherwise)."""
    missing = []
    for ref in model.secrets:
        state = client.secret_state(model.project, ref.secret, ref.version)
        if state != "ENABLED":
            what = "does not exist" if state is None else f"is {state}"
            missing.append(
                f"{ref.var} -> projects/{model.project}/secrets/{ref.secret}/versions/{ref.version} {what}"
            )
    if missing:
        first = model.secrets[0].secret if model.secrets else "NAME"
        raise GoogleSecretMissing(
            "deploy.secrets",
            "Secret Manager has no usable version for: " + "; ".join(missing),
            hint=f"create it: gcloud secrets create {first} --data-file=- (then grant the service account access)",
        )


def choose_version(
    release: Release, client: CloudRunClient, model: CloudRunModel, force: bool
) -> tuple[int, bool, bool]:
    """(version, reuse the record?, its revision exists and is Ready?). The release core reuses the
    version of the same content and image (a re-run converges), unless its revision failed to start:
    then the next number (a failed revision's name cannot be used again)."""
    number, reuse = release.version_for(
        model.agent, content_hash=model.content_hash, image=model.image, force=force
    )
    if not reuse:
        return number, False, False
    revision = client.get_revision(f"{model.name}/revisions/{model.revision(number)}")
    if revision is None:
        return number, True, False
    if revision_ready(revision) is True:
        return number, True, True
    following, _ = release.version_for(
        model.agent, content_hash=model.content_hash, image=model.image, force=True
    )
    return following, False, False
