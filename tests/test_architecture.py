"""The package structure: layers in one order, no import cycle at any level.

A package is the first folder or module under backend/ (backend.auth, backend.kernel, ...), and
web/ is one package. Every import statement counts, wherever it sits: one inside a function, or
one under `if TYPE_CHECKING:`, still ties the two modules (it names what the code depends on),
so a cycle hidden that way is still a cycle.

The layers, lowest first: a package imports only from its own layer and the ones below. Inside
any folder, its modules and subfolders import each other without a cycle as well. The domain
(everything below the GraphQL layer) imports no web framework.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS: list[set[str]] = [
    {"backend.kernel"},  # values every layer uses
    {"backend.infra"},  # configuration, database, logs
    {"backend.audit", "backend.events"},  # the security log; events for the platform
    {"backend.accounts"},
    {"backend.notifications"},  # mail, texts and notices to the account
    {"backend.auth"},  # sign-in, re-authentication, factors, sessions, throttle
    {
        "backend.account_settings",
        "backend.tokens",
        "backend.recovery",
        "backend.serviceclients",
        "backend.oidc",
        "backend.forward_auth",  # reads sessions (auth) and tokens
    },
    {"backend.administration"},  # administrators' use cases, over the features they act on
    {"backend.lifecycle"},  # exporting and deleting accounts, by their users or administrators
    {"backend.api"},  # GraphQL: resolvers over the features
    {"backend.server", "web"},  # the HTTP edges: /graphql and OAuth, the pages
    {"backend.app"},  # the composition root: app factory, wiring, CLI, background jobs
]
DOMAIN = set().union(*LAYERS[: LAYERS.index({"backend.api"})])
WEB_FRAMEWORKS = {"strawberry", "starlette"}


def module_files() -> dict[str, Path]:
    files = {}
    for top in ("backend", "web"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


def package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "web":
        return "web"
    if parts[0] == "backend" and len(parts) > 1:
        return ".".join(parts[:2])
    return None


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def imported_modules(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """Every module an import statement of `module` names, with the statement's line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
            continue
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            if path.name != "__init__.py":
                anchor = anchor[:-1]
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            yield (submodule if submodule in known else base), node.lineno


def package_imports(node_of: Callable[[str], str | None]) -> dict[str, dict[str, list[str]]]:
    """node -> imported node -> where ("module:line"); `node_of` names a module's node."""
    known = module_files()
    graph: dict[str, dict[str, list[str]]] = {}
    for module, path in known.items():
        source = node_of(module)
        if source is None:
            continue
        for target, line in imported_modules(module, path, known):
            imported = node_of(target)
            if imported is None or imported == source:
                continue
            graph.setdefault(source, {}).setdefault(imported, []).append(f"{module}:{line}")
    return graph


def strongly_connected(graph: dict[str, dict[str, list[str]]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of nodes that reach each other (size > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in graph.get(node, {}):
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def describe(group: set[str], graph: dict[str, dict[str, list[str]]]) -> str:
    lines = [" <-> ".join(sorted(group))]
    for source in sorted(group):
        for target, places in sorted(graph.get(source, {}).items()):
            if target in group:
                lines.append(f"  {source} -> {target}: {', '.join(places)}")
    return "\n".join(lines)


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[str]:
    return [describe(group, graph) for group in strongly_connected(graph)]


def layer_of(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def test_every_package_has_a_layer() -> None:
    packages = {package_of(module) for module in module_files()} - {None, "backend"}
    assert packages <= set().union(*LAYERS), "place it in LAYERS: " + ", ".join(
        sorted(packages - set().union(*LAYERS))
    )


def test_packages_import_only_their_layer_and_the_ones_below() -> None:
    upward = [
        f"{source} -> {target} ({', '.join(places)})"
        for source, targets in package_imports(package_of).items()
        if source != "backend"
        for target, places in targets.items()
        if target != "backend" and layer_of(target) > layer_of(source)
    ]
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_packages_import_each_other_without_cycles() -> None:
    found = cycles(package_imports(package_of))
    assert not found, "import cycles:\n" + "\n".join(found)


def test_inside_every_folder_its_parts_import_each_other_without_cycles() -> None:
    known = module_files()
    folders = sorted(module for module, path in known.items() if path.name == "__init__.py")
    found = []
    for folder in folders:

        def part_of(module: str, folder: str = folder) -> str | None:
            if not module.startswith(folder + "."):
                return None
            return f"{folder}.{module[len(folder) + 1 :].split('.')[0]}"

        found += cycles(package_imports(part_of))
    assert not found, "import cycles:\n" + "\n".join(found)


def test_domain_modules_import_no_web_framework() -> None:
    known = module_files()
    offending = []
    for module, path in sorted(known.items()):
        if package_of(module) not in DOMAIN:
            continue
        for target, line in imported_modules(module, path, known):
            if target.split(".")[0] in WEB_FRAMEWORKS:
                offending.append(f"{module}:{line} imports {target}")
    assert not offending, "domain modules importing a web framework:\n" + "\n".join(offending)


def test_a_cycle_through_an_import_for_the_type_checker_or_inside_a_function_is_found() -> None:
    """What the checker reads counts: the import inside a function and the one only for the
    type checker both tie their module to another."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from backend.auth.factors import strategy\n"
        "def f():\n    from backend.api import types\n"
    )
    assert [node.module for node in _import_nodes(tree)] == [
        "typing",
        "backend.auth.factors",
        "backend.api",
    ]
    graph = {"a": {"b": ["a:3"]}, "b": {"c": ["b:1"]}, "c": {"a": ["c:5"]}, "d": {"a": ["d:1"]}}
    assert strongly_connected(graph) == [{"a", "b", "c"}]


# Re-authentication is the session's state (backend/auth/reauthentication.py): a sensitive use
# case asks the session, and never takes a password or a code to pass along.
PROOF_PARAMETERS = {"password", "otp", "code", "current_password"}
SENSITIVE_USE_CASES = {
    "backend/account_settings/profile.py": {"update"},
    "backend/account_settings/password_change.py": {"change"},
    "backend/account_settings/session_revocation.py": {"revoke", "sign_out_others"},
    "backend/account_settings/second_factors.py": {
        "start_setup",
        "set_policy",
        "remove",
        "set_preferred",
        "disable",
        "regenerate_recovery_codes",
    },
    "backend/account_settings/passkeys.py": {"start_registration", "delete"},
    "backend/tokens/service.py": {"issue", "regenerate"},
    "backend/tokens/credentials.py": {"generate_for"},
}
# What legitimately takes a code or a password: the code sent to a new email address, the
# first code of a new factor, and the password that guards sending a code.
PROOF_TAKERS = {
    ("backend/account_settings/email_change.py", "send_code"),
    ("backend/account_settings/email_change.py", "verify"),
    ("backend/account_settings/email_change.py", "_hash"),
    ("backend/account_settings/second_factors.py", "confirm_setup"),
    ("backend/account_settings/second_factors.py", "send_reauthentication_code"),
}


def _functions(path: Path) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text())
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return {node.name: node for node in ast.walk(tree) if isinstance(node, kinds)}


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    arguments = node.args
    return {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}


def test_sensitive_use_cases_ask_the_session_and_take_no_proof() -> None:
    for relative, names in SENSITIVE_USE_CASES.items():
        functions = _functions(ROOT / relative)
        for name in names:
            node = functions[name]
            assert not _parameters(node) & PROOF_PARAMETERS, (relative, name)
            called = {
                call.func.attr
                for call in ast.walk(node)
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            }
            # Deleting a passkey is second_factors.remove, which asks.
            assert {"require", "remove"} & called, (relative, name)


def test_only_the_known_functions_take_a_password_or_a_code() -> None:
    takers = set()
    for package in ("account_settings", "tokens", "recovery"):
        for path in sorted((ROOT / "backend" / package).glob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for name, node in _functions(path).items():
                if _parameters(node) & PROOF_PARAMETERS:
                    takers.add((relative, name))
    assert takers == PROOF_TAKERS
