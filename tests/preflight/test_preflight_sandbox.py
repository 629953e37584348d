"""The sandbox the image's CMD runs in: non-root, no HOME, read-only everywhere but /tmp, and
only the environment it is given."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from agentdock.preflight import sandbox as S
from agentdock.preflight.envs import locked_env, read_manifest

pytestmark = pytest.mark.integration

PROBE = """
import json, os
def can_write(path):
    try:
        with open(path, "w") as fh:
            fh.write("x")
        return True
    except OSError:
        return False
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "home": os.environ.get("HOME"), "env": sorted(os.environ),
    "cwd": os.getcwd(),
    "ctx": can_write("entry.py.new"), "root": can_write("/etc/agentdock-probe"),
    "tmp": can_write("/tmp/probe"), "venv": can_write(os.path.join(os.environ["VENV"], "probe")),
}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's isolation needs root (CI runs as root)")
def test_the_command_runs_isolated(contexts: dict[str, Path], tmp_path: Path) -> None:
    ctx = contexts["knative"]
    venv, _ = locked_env(ctx, read_manifest(ctx))
    box = S.prepare(ctx, venv)
    assert box.isolated, box.skipped
    env = {"PATH": f"{box.env_path}/bin:/usr/bin:/bin", "VENV": box.env_path}
    log = tmp_path / "log"
    proc = S.spawn(box, ["python", "-c", PROBE], env, log, stdin=subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)
    facts = json.loads(out.decode().strip().splitlines()[-1])
    assert (facts["uid"], facts["gid"]) == (10001, 10001)
    assert facts["home"] is None
    assert facts["cwd"] == S.CTX_MOUNT
    assert not facts["ctx"] and not facts["root"] and not facts["venv"]
    assert facts["tmp"] is True
    assert set(facts["env"]) <= {"PATH", "VENV", "LC_CTYPE"}  # nothing from the operator's shell
    assert not (ctx / "entry.py.new").exists()


def test_reproduce_line_never_prints_secret_values(tmp_path: Path) -> None:
    box = S.Sandbox(tmp_path, tmp_path, skipped=["test"])
    line = S.reproduce(box, ["python", "-V"], {"JWT_SECRET": "s3cr3t-value", "PORT": "8080"}, {"JWT_SECRET"})
    assert "s3cr3t-value" not in line
    assert 'JWT_SECRET="$JWT_SECRET"' in line and "PORT=8080" in line
