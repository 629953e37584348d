"""The image a Lambda version runs: an ECR URI given by CI, or built here and pushed.

Lambda runs container images from Amazon ECR only, in the function's own region. A URI given with
``--image-uri`` is checked with a read-only ``DescribeImages`` before anything changes; without
one, the image is built from the artifact's context with the engine ``agentdock.build`` finds, tagged
with the content hash (so a tag is never reused for other content) and pushed.
"""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentdock.targets.lambda_.aws import cloud_error, error_code

from agentdock.build.builder import Builder, build_image, detect_builder
from agentdock.errors import BuildError, ImageNotFound

ECR_URI_RE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::(?P<tag>[\w][\w.-]{0,127})|@(?P<digest>sha256:[0-9a-f]{64}))$"
)
Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class EcrImage:
    uri: str
    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    def image_id(self) -> dict[str, str]:
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or "latest"}


def parse_ecr_uri(uri: str) -> EcrImage:
    match = ECR_URI_RE.match(uri.strip())
    if not match:
        raise ImageNotFound(
            "--image-uri",
            f"{uri!r} is not an Amazon ECR image URI with a tag or digest",
            hint="use ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG (Lambda runs ECR images only)",
        )
    return EcrImage(
        uri=uri.strip(),
        account=match["account"],
        region=match["region"],
        repository=match["repository"],
        tag=match["tag"],
        digest=match["digest"],
    )


def image_tag(content_hash: str) -> str:
    """A tag derived from the content hash: the same context always gets the same tag."""
    hexpart = re.sub(r"[^0-9a-zA-Z]", "", content_hash.split(":", 1)[-1])
    return (hexpart[:24] or "latest").lower()


def check_image(ecr: Any, image: EcrImage, region: str) -> str:
    """Fail early unless the image exists in ECR in the function's region; returns its digest."""
    if image.region != region:
        raise ImageNotFound(
            "--image-uri",
            f"the image is in {image.region} but the function is in {region}: Lambda pulls from its own region",
            hint=f"push the image to ECR in {region} (or set deploy.lambda.region: {image.region})",
        )
    try:
        found = ecr.describe_images(
            registryId=image.account, repositoryName=image.repository, imageIds=[image.image_id()]
        )["imageDetails"]
    except Exception as exc:
        if error_code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
            raise ImageNotFound(
                "--image-uri",
                f"{image.uri} does not exist in ECR ({error_code(exc)})",
                hint="push the image first (docker push), then deploy with --image-uri",
            ) from exc
        raise cloud_error("ecr", "DescribeImages", exc) from exc
    if not found:
        raise ImageNotFound("--image-uri", f"{image.uri} does not exist in ECR", hint="push the image first")
    return str(found[0].get("imageDigest", ""))


def find_builder(setting: Any = None) -> Builder | None:
    """The image builder: a ``Builder``, a path to a docker-compatible CLI, ``False`` (never build
    here), or None: the first working engine ``agentdock.build.builder.detect_builder`` finds."""
    if setting is False:
        return None
    if isinstance(setting, Builder):
        return setting
    if isinstance(setting, str | Path):
        return Builder(Path(setting).name, str(setting))
    return detect_builder().builder


def build_and_push(
    ecr: Any,
    *,
    builder: Builder,
    context_dir: str,
    image_uri: str,
    architecture: str,
    run: Runner = subprocess.run,
) -> dict[str, str]:
    """Build the context for the function's architecture (``agentdock.build``), log in to ECR and
    push. The registry password goes to the engine on stdin only: never argv, a log or a file."""
    platform = "linux/arm64" if architecture == "arm64" else "linux/amd64"
    build_image(builder, Path(context_dir), image_uri, platform=platform, quiet=True)
    registry = image_uri.split("/", 1)[0]
    try:
        auth = ecr.get_authorization_token()["authorizationData"][0]
    except Exception as exc:
        raise cloud_error("ecr", "GetAuthorizationToken", exc) from exc
    user, _, password = base64.b64decode(auth["authorizationToken"]).decode().partition(":")
    steps: list[tuple[list[str], str | None]] = [
        ([builder.path, "login", "--username", user, "--password-stdin", registry], password),
        ([builder.path, "push", image_uri], None),
    ]
    for argv, stdin in steps:
        done = run(argv, input=stdin, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout or "").strip().splitlines()[-3:]
            raise BuildError(
                f"{builder.name} {argv[1]}",
                f"exit {done.returncode}: " + " | ".join(tail),
                hint="fix the push, or build and push in CI and deploy with --image-uri",
            )
    return {"image": image_uri, "platform": platform, "builder": builder.name}
