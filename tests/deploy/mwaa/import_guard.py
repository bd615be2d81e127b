"""Run in a subprocess by test_requirements.py: imports only what a requirement list allows.

``python import_guard.py parse REQ...`` parses dags/ with a DagBag and prints its import
errors and DAG ids as JSON; ``python import_guard.py import REQ... -- MODULE...`` imports the
modules and prints ``{"imported": [...]}``. REQ are distribution names; they and everything
they require (their dependency closure, from the installed metadata) may be imported, as
may the standard library and modules of no installed distribution (the DAG file itself).
Any other installed distribution's modules raise ModuleNotFoundError, as on an environment
where only those requirements were installed.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.metadata as md
import json
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DAGS = Path(__file__).resolve().parents[3] / "dags"


def closure(names: list[str]) -> set[str]:
    """Canonical names of ``names`` and of every distribution they require (no extras)."""
    seen: set[str] = set()
    todo = [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.distribution(name).requires or []
        except md.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


class Guard(importlib.abc.MetaPathFinder):
    def __init__(self, allowed: set[str]):
        owners = dict(md.packages_distributions())
        for dist in md.distributions():  # editable installs (f1pipe) map no modules: by name
            owners.setdefault(dist.metadata["Name"].replace("-", "_").lower(),
                              [dist.metadata["Name"]])
        self.blocked = {module for module, dists in owners.items()
                        if not {canonicalize_name(d) for d in dists} & allowed
                        and module not in sys.stdlib_module_names}

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not in the requirements)",
                                      name=fullname)
        return None


def main() -> int:
    mode, args = sys.argv[1], sys.argv[2:]
    split = args.index("--") if "--" in args else len(args)
    requirements, modules = args[:split], args[split + 1:]
    guard = Guard(closure(requirements))
    sys.meta_path.insert(0, guard)
    if mode == "parse":
        from airflow.models.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS))
        print(json.dumps({"import_errors": {k: str(v) for k, v in bag.import_errors.items()},
                          "dag_ids": sorted(bag.dags)}))
        return 0
    for module in modules:
        importlib.import_module(module)
    print(json.dumps({"imported": modules}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
