"""The package structure: no import cycle between packages, no web framework in the domain.

A package is the first folder or module under backend/ (backend.accounts, backend.clock, ...),
and web/ is one package. Every import statement counts, wherever it sits: an import inside a
function that hides a cycle is still a cycle. Two rules shape the graph:

- `if TYPE_CHECKING:` imports are left out. They never run, so they cannot fix an import order
  or carry behaviour; they only name a type for the checker. backend.services relies on this: it
  is a plain record of collaborators whose field types live in the domain packages that use it,
  and it is built by backend.wiring, above every domain package.
- backend.server.app is the wiring of the HTTP edges (it mounts /graphql, OAuth and the pages),
  so it is a node of its own above backend.server and web; both edges may use
  backend.server's cookie and authentication rules.

The domain is everything but the edges (backend.api, backend.server, web) and the wiring
(backend.server.app, backend.cli, backend.wiring): it imports neither strawberry nor starlette.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIRING_MODULES = {"backend.server.app": "backend.server.app"}
EDGES = {"backend.api", "backend.server", "web"}
WIRING = {"backend.server.app", "backend.cli", "backend.wiring"}
WEB_FRAMEWORKS = {"strawberry", "starlette"}
# Package cycles that exist today and are still to be split; each must still be a cycle (so the
# list only shrinks). Step-up confirmation checks codes through twofactor, and twofactor's
# settings changes ask for step-up confirmation.
KNOWN_CYCLES: list[set[str]] = []
# Inside the GraphQL layer, modules too: the viewer type imports the types of the parts it
# shows, so those live apart from the mutations that answer with the viewer.
KNOWN_API_CYCLES: list[set[str]] = []


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
    if module in WIRING_MODULES:
        return WIRING_MODULES[module]
    parts = module.split(".")
    if parts[0] == "web":
        return "web"
    if parts[0] == "backend" and len(parts) > 1:
        return ".".join(parts[:2])
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in _import_nodes_in(child))
            continue
        yield from _import_nodes_in(node)


def _import_nodes_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _import_nodes(node)


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
    """Tarjan's algorithm: the groups of packages that reach each other (size > 1)."""
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


def assert_no_cycles(graph: dict[str, dict[str, list[str]]], known: list[set[str]]) -> None:
    groups = strongly_connected(graph)
    unexpected = [group for group in groups if group not in known]
    assert not unexpected, "import cycles:\n" + "\n".join(
        describe(group, graph) for group in unexpected
    )
    resolved = [group for group in known if group not in groups]
    assert not resolved, f"no longer a cycle, drop it from the known ones: {resolved}"


def test_packages_import_each_other_without_cycles() -> None:
    assert_no_cycles(package_imports(package_of), KNOWN_CYCLES)


def test_graphql_modules_import_each_other_without_cycles() -> None:
    def api_module(module: str) -> str | None:
        return module if module.startswith("backend.api.") else None

    assert_no_cycles(package_imports(api_module), KNOWN_API_CYCLES)


def test_domain_modules_import_no_web_framework() -> None:
    known = module_files()
    offending = []
    for module, path in sorted(known.items()):
        package = package_of(module)
        if package is None or package in EDGES | WIRING:
            continue
        for target, line in imported_modules(module, path, known):
            if target.split(".")[0] in WEB_FRAMEWORKS:
                offending.append(f"{module}:{line} imports {target}")
    assert not offending, "domain modules importing a web framework:\n" + "\n".join(offending)


def test_a_lazy_import_inside_a_function_counts() -> None:
    """The reader sees imports hidden in function bodies, not only module-level ones."""
    tree = ast.parse("def f():\n    from backend.api import types\n")
    assert [node.module for node in _import_nodes(tree)] == ["backend.api"]


def test_imports_only_for_the_type_checker_do_not_count() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from backend.twofactor import factors\n"
        "else:\n    import backend.clock\n"
    )
    assert [ast.unparse(node) for node in _import_nodes(tree)] == [
        "from typing import TYPE_CHECKING",
        "import backend.clock",
    ]


# Re-authentication is the session's state (backend/reauthentication.py): a sensitive use
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
