"""The agentdock wheel every image context carries, so no image asks the public index for
``agentdock`` (that name belongs to an unrelated project there).

Where it comes from, in this order:

1. an explicit wheel (``--wheel PATH`` / ``AGENTDOCK_WHEEL``), checked to be this version;
2. a source checkout (editable/dev install): the package folders and ``pyproject.toml`` are copied
   to a clean temporary folder and built there with build isolation and ``SOURCE_DATE_EPOCH``
   (so stale ``build/`` folders never leak in and the bytes repeat); cached by source hash;
3. an installed agentdock (from a wheel): its files, as listed in the dist-info ``RECORD``, are
   re-packed into a wheel with fixed timestamps; cached by the hash of those files.

``python -m agentdock.build.wheel --out dist`` is what ``make wheel`` runs.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import agentdock
from agentdock.build.cache import cache_dir
from agentdock.errors import BuildError
from agentdock.settings import ENV_WHEEL

# 1980-01-01, the earliest time a zip entry can hold; used when no epoch is given.
DEFAULT_EPOCH = 315532800
_SOURCE_SUFFIXES = (".py", ".j2", ".json", ".typed", ".html", ".js", ".css", ".svg")  # sources + package data


@dataclass(frozen=True)
class Wheel:
    name: str  # agentdock-<version>-py3-none-any.whl
    data: bytes
    sha256: str  # hex

    @classmethod
    def of(cls, name: str, data: bytes) -> Wheel:
        return cls(name, data, hashlib.sha256(data).hexdigest())


def wheel_name() -> str:
    return f"agentdock-{agentdock.__version__}-py3-none-any.whl"


def source_checkout() -> Path | None:
    """The repository folder when agentdock is imported from a checkout (editable/dev install)."""
    root = Path(agentdock.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "agentdock"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def _checkout_files(root: Path) -> dict[str, bytes]:
    """What a wheel is built from: pyproject, README and the mapped package folders' sources."""
    import tomllib

    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    folders = set(data["tool"]["setuptools"]["package-dir"].values())
    files = {
        name: (root / name).read_bytes()
        for name in ("pyproject.toml", "README.md", "LICENSE")
        if (root / name).is_file()
    }
    for folder in sorted(folders):
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and path.suffix in _SOURCE_SUFFIXES and "__pycache__" not in rel.parts:
                files[rel.as_posix()] = path.read_bytes()
    return files


def _digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\0{len(files[rel])}\0".encode())
        h.update(files[rel])
    return h.hexdigest()


def _build_from_checkout(files: dict[str, bytes], epoch: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="agentdock-wheel-") as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "out"
        for rel, data in files.items():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            (src / rel).write_bytes(data)
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "PIP_NO_INPUT": "1"}
        env.pop("PIP_NO_BUILD_ISOLATION", None)
        argv = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(out),
            str(src),
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        built = sorted(out.glob("agentdock-*.whl"))
        if proc.returncode != 0 or not built:
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
            raise BuildError(
                "agentdock wheel",
                f"building the wheel from {source_checkout()} failed: {tail}",
                hint="pip needs setuptools>=77 from the index for an isolated build; "
                "or pass --wheel PATH / AGENTDOCK_WHEEL",
            )
        return built[0].read_bytes()


def _installed_files() -> tuple[metadata.Distribution, dict[str, bytes]]:
    dist = metadata.distribution("agentdock")
    files: dict[str, bytes] = {}
    for entry in dist.files or ():
        rel = entry.as_posix()
        if rel.endswith(("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")) or "__pycache__" in rel:
            continue
        if rel.startswith(".."):  # console scripts live outside site-packages: pip regenerates them
            continue
        files[rel] = Path(str(dist.locate_file(entry))).read_bytes()
    return dist, files


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack(files: dict[str, bytes], dist_info: str, epoch: int) -> bytes:
    """A wheel zip of ``files`` with a fresh RECORD, sorted entries and fixed timestamps."""
    import time

    stamp = time.gmtime(max(epoch, DEFAULT_EPOCH))[:6]
    buf = io.BytesIO()
    rows = []
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel in sorted(files):
            info = zipfile.ZipInfo(rel, date_time=stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[rel])
            rows.append((rel, _record_hash(files[rel]), str(len(files[rel]))))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([*rows, (f"{dist_info}/RECORD", "", "")])
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=stamp)
        info.external_attr = 0o644 << 16
        zf.writestr(info, out.getvalue())
    return buf.getvalue()


def _epoch() -> int:
    raw = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(raw) if raw.isdigit() else DEFAULT_EPOCH


def _explicit(path: Path) -> Wheel:
    if not path.is_file() or path.suffix != ".whl":
        raise BuildError(ENV_WHEEL, f"{path} is not a wheel file", hint="build one with `make wheel`")
    if not path.name.startswith(f"agentdock-{agentdock.__version__}-"):
        raise BuildError(
            ENV_WHEEL,
            f"{path.name} is not agentdock {agentdock.__version__}",
            hint="build a wheel of this version with `make wheel`",
        )
    return Wheel.of(path.name, path.read_bytes())


def agentdock_wheel(explicit: str | Path | None = None) -> Wheel:
    """The wheel of the running agentdock (see the module docstring); cached by source hash."""
    chosen = explicit or os.environ.get(ENV_WHEEL) or None
    if chosen:
        return _explicit(Path(chosen).expanduser())
    epoch = _epoch()
    root = source_checkout()
    if root is not None:
        files = _checkout_files(root)
    else:
        dist, files = _installed_files()
    key = f"{_digest(files)[:32]}-{epoch}"
    cached = cache_dir("wheels") / key / wheel_name()
    if cached.is_file():
        return Wheel.of(cached.name, cached.read_bytes())
    if root is not None:
        data = _build_from_checkout(files, epoch)
    else:
        info = next(rel.split("/")[0] for rel in files if rel.split("/")[0].endswith(".dist-info"))
        data = repack(files, info, epoch)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return Wheel.of(cached.name, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the agentdock wheel (reproducible, cached).")
    parser.add_argument("--out", default="dist", help="folder to write the wheel into")
    args = parser.parse_args(argv)
    wheel = agentdock_wheel(None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / wheel.name).write_bytes(wheel.data)
    print(f"{out / wheel.name} sha256={wheel.sha256}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
