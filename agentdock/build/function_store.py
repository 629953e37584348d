"""The metadata store a deployed function reads: one rule for every cloud target (Lambda, Knative,
Cloud Run) and for the image's extras (``requirements.runtime_extras``, the CLI's and the CDK's
builds), so an image carries the driver of the store its function will really open.

The rule: the Dockfile's ``deploy.store``, else the deploy's own store (``--store``, the remembered
store, ``AGENTDOCK_STORE``, the target's default).

* a URL with a password is refused: a secret value would land in the function's environment;
* a local store (``sqlite``, ``memory``, ``file``, a path) named by the Dockfile is refused: the
  function cannot reach it;
* a local deploy store (the CLI's default SQLite file) gives the function no store, with a warning;
* no store at all gives the function none, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from agentdock.errors import DeployError

LOCAL_STORE_SCHEMES = ("sqlite", "memory", "file", "")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


@dataclass(frozen=True)
class StoreReader:
    """How a target names what reads the store, for its messages."""

    noun: str = "function"  # "function" (Lambda), "service" (Knative, Cloud Run)
    lands_in: str = "the function's environment"  # where a password in the URL would be written
    example: str = "dynamodb://TABLE?region=..."  # a store this target's functions can reach
    password_hint: str = "use a passwordless URL and keep secrets in deploy.secrets"
    no_store_note: str = ""  # what a function without a store means on this target (appended)


FUNCTION = StoreReader()


def scheme_of(url: str) -> str:
    """The URL's scheme, lower case ("" for a bare path). Not ``urlsplit``: a CDK token in the host
    (``dynamodb://${Token[TOKEN.1]}?...``) is no valid netloc, and only the scheme matters here."""
    found = _SCHEME.match(url)
    return found.group(1).lower() if found else ""


def is_local(url: str) -> bool:
    """A store only this machine can open (an embedded file, memory, a bare path)."""
    return scheme_of(url) in LOCAL_STORE_SCHEMES


def function_store_url(
    dockfile_store: str | None, target_store: str | None, *, where: StoreReader = FUNCTION
) -> tuple[str | None, str | None]:
    """The store URL the function reads (None when it gets none) and a warning for the plan."""
    url = dockfile_store or target_store
    if not url:
        none = f"the {where.noun} gets no metadata store: set deploy.store ({where.example})"
        return None, none + where.no_store_note
    parts = urlsplit(url)
    if parts.password:
        raise DeployError(
            "deploy.store",
            f"the store URL carries a password: it would land in {where.lands_in}",
            hint=where.password_hint,
        )
    if is_local(url):
        local = f"{scheme_of(url)}://" if scheme_of(url) else "a local path"
        if dockfile_store:
            raise DeployError(
                "deploy.store",
                f"{local} store is local to this machine; the {where.noun} cannot reach it",
                hint=f"set deploy.store to a store it can reach: {where.example}",
            )
        return None, (
            f"the {where.noun} gets no metadata store ({local} is local to this machine): "
            f"set deploy.store ({where.example}) or deploy with --store{where.no_store_note}"
        )
    return url, None


def image_store_url(dockfile_store: str | None, target_store: str | None) -> str:
    """The store whose driver the image needs: the Dockfile's ``deploy.store`` as written, else the
    deploy's store when the function gets it (not local). Never raises: a build still renders what a
    deploy would refuse, and the deploy refuses it by ``function_store_url``."""
    if dockfile_store:
        return dockfile_store
    return target_store if target_store and not is_local(target_store) else ""
