"""Import ``module.path:callable`` / ``module:Class`` / ``module.Class`` from a Dockfile's folder.

Two users with opposite needs:

* the runtime (``import_entrypoint``, ``import_object``) imports once and keeps the modules;
* validation imports inside ``isolated_imports(base_dir)``, which puts everything back
  afterwards: ``sys.path`` exactly, and ``sys.modules`` for the modules that came from the
  Dockfile's folder. Two Dockfiles whose agents are both ``agent.py`` therefore never see each
  other's module. Third-party modules an agent pulls in (langgraph, ...) stay loaded: they are
  the same for every Dockfile, and some C extensions cannot be imported twice in one process.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from agentdock.errors import DockfileError, EntrypointNotFoundError

OBJECT_PATH = re.compile(r"^[A-Za-z_][\w.]*[:.][A-Za-z_]\w*$")
_LOCK = threading.RLock()


def split_target(dotted: str) -> tuple[str, str]:
    """``"pkg.mod:obj"`` or ``"pkg.mod.obj"`` -> ``("pkg.mod", "obj")``."""
    module, sep, attr = dotted.partition(":")
    if not sep:
        module, _, attr = dotted.rpartition(".")
    if not OBJECT_PATH.match(dotted) or not module or not attr:
        raise ValueError(f"{dotted!r} is not 'module.path:name' or 'module.Name'")
    return module, attr


def import_entrypoint(entrypoint: str, base_dir: str | Path) -> Any:
    """The object ``entrypoint`` names, with ``base_dir`` on ``sys.path`` (kept: runtime use).

    Raises ``EntrypointNotFoundError`` (4003) with the import's own exception summarised.
    """
    return import_object(entrypoint, base_dir, path="agent.entrypoint")


def import_object(
    dotted: str, base_dir: str | Path, *, path: str = "", error: type[DockfileError] = EntrypointNotFoundError
) -> Any:
    """The object ``dotted`` names (``module:Name`` or ``module.Name``), importing from ``base_dir``.

    Failures raise ``error`` (default 4003) at ``path``, e.g. InvalidIOSchemaError for I/O classes.
    """
    try:
        module_name, attr = split_target(dotted)
    except ValueError as exc:
        raise error(path, str(exc)) from None
    folder = str(Path(base_dir).resolve())
    with _LOCK:
        if sys.path[:1] != [folder]:  # first, so this folder's modules win over another agent's
            while folder in sys.path:
                sys.path.remove(folder)
            sys.path.insert(0, folder)
        _evict_shadowing(module_name, Path(folder))
        importlib.invalidate_caches()
        module = _import_module(module_name, folder, path=path, error=error)
    try:
        return getattr(module, attr)
    except AttributeError:
        names = [n for n, v in vars(module).items() if not n.startswith("_") and callable(v)]
        hint = f"names in {module_name}: {', '.join(sorted(names)[:12])}" if names else None
        raise error(path, f"module '{module_name}' has no attribute '{attr}'", hint=hint) from None
    except Exception as exc:  # a module __getattr__ that fails
        raise error(path, f"reading '{attr}' from '{module_name}' failed: {_summary(exc)}") from None


def _import_module(name: str, folder: str, *, path: str, error: type[DockfileError]) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            file = name.replace(".", "/") + ".py"
            raise error(
                path,
                f"module '{name}' not found (looked in {folder} and sys.path)",
                hint=f"create {file} beside the Dockfile",
            ) from None
        raise error(path, f"import of '{name}' failed: {_summary(exc)}", hint=_missing_hint(exc)) from None
    except (Exception, SystemExit) as exc:
        raise error(path, f"import of '{name}' failed: {_summary(exc)}") from None


def _summary(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _missing_hint(exc: ModuleNotFoundError) -> str | None:
    top = (exc.name or "").split(".")[0]
    return f"install it (pip install {top}) and list it in requirements.txt" if top else None


def _under(module: ModuleType, folder: Path) -> bool:
    """Whether ``module`` was loaded from a file (or namespace folder) inside ``folder``."""
    places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", None) or [])]
    return any(place and Path(place).resolve().is_relative_to(folder) for place in places)


def _evict_shadowing(module_name: str, folder: Path) -> None:
    """If ``folder`` defines ``top`` (``top.py`` / ``top/``) but a different ``top`` is loaded, unload it.

    Under ``isolated_imports`` the unloaded modules come back on exit.
    """
    top = module_name.split(".")[0]
    loaded = sys.modules.get(top)
    defines = (folder / f"{top}.py").is_file() or (folder / top).is_dir()
    if loaded is None or not defines or _under(loaded, folder):
        return
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


@contextmanager
def isolated_imports(base_dir: str | Path) -> Iterator[None]:
    """Run imports from ``base_dir`` and put ``sys.path``/``sys.modules`` back afterwards."""
    folder = Path(base_dir).resolve()
    with _LOCK:
        saved_path = list(sys.path)
        saved_modules = dict(sys.modules)
        saved_bytecode = sys.dont_write_bytecode
        sys.dont_write_bytecode = True  # validating must not write __pycache__ into the project
        try:
            yield
        finally:
            for name, module in list(sys.modules.items()):
                if name in saved_modules:
                    continue
                top = name.split(".")[0]
                if _under(module, folder) and (
                    top not in saved_modules or sys.modules.get(top) is not saved_modules[top]
                ):
                    del sys.modules[name]
            for name, module in saved_modules.items():
                if sys.modules.get(name) is not module:
                    sys.modules[name] = module
            sys.path[:] = saved_path
            sys.dont_write_bytecode = saved_bytecode
            importlib.invalidate_caches()
