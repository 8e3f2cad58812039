"""A kind of second factor is named in its own package, its template and the registry only.

Everything else (sign-in, settings, GraphQL, the pages) reads the registry and the
strategies' attributes, so adding a kind is one package, one template, its operations and
one line in the registry. These tests fail when a kind is named one by one elsewhere again.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from backend.api.twofactor import TwoFactorMethod
from backend.auth.factors import registry
from web.factors import FACTOR_KINDS
from web.templating import templates
from web.twofactor_pages import setup_operations

ROOT = Path(__file__).resolve().parent.parent
# Files about second factors in general, where even a kind's stored value must not appear.
ABOUT_FACTORS = [
    *sorted((ROOT / "backend" / "auth" / "factors").glob("*.py")),
    ROOT / "backend" / "auth" / "challenges.py",
    ROOT / "backend" / "auth" / "verification.py",
    ROOT / "backend" / "account_settings" / "second_factors.py",
    ROOT / "backend" / "auth" / "reauthentication.py",
    *(ROOT / "backend" / "api" / name for name in ("twofactor.py", "signin.py")),
    ROOT / "backend" / "api" / "reauthentication.py",
    *sorted((ROOT / "backend" / "audit").glob("*.py")),
]
MACROS = (
    "challenge_prompt",
    "switch_button",
    "proof_hint",
    "add_option",
    "setup_step",
    "setup_fields",
)


# Modules outside a kind's package that import from it, each for a reason of its own.
# Everything else reaches a kind through the registry and the Strategy interface only.
IMPORTS_OF_A_KIND = {
    # Recovery codes come with two-factor authentication itself, not with one kind: the
    # first factor makes them, the settings regenerate them, the view counts them, and
    # their use is noticed.
    ("backend/account_settings/second_factors.py", "recovery_code"),
    ("backend/account_settings/passkeys.py", "recovery_code"),
    ("backend/api/twofactor.py", "recovery_code"),
    ("backend/auth/verification.py", "recovery_code"),
    # A passkey is also more than a second factor: its own registration ceremony, and
    # passwordless sign-in, where it is the first factor.
    ("backend/account_settings/passkeys.py", "passkey"),
    ("backend/auth/signin/passkeys.py", "passkey"),
}


def own_files(kind) -> set[Path]:
    package = ROOT.joinpath(*kind.__module__.split(".")[:-1])
    return {
        *package.rglob("*.py"),
        ROOT / "backend" / "auth" / "factors" / "registry.py",
        ROOT / "web" / "templates" / "factors" / f"{kind.kind}.html",
    }


def code_files() -> list[Path]:
    files = [*(ROOT / "backend").rglob("*.py"), *(ROOT / "web").rglob("*.py")]
    files += (ROOT / "web" / "templates").rglob("*.html")
    return [path for path in files if "migrations" not in path.parts]


def quoted(name: str) -> re.Pattern[str]:
    return re.compile(rf"""["']{re.escape(name)}["']""")


@pytest.mark.parametrize("kind", registry.KINDS, ids=lambda kind: kind.kind)
def test_a_kind_is_named_only_in_its_package_template_and_the_registry(kind):
    allowed = own_files(kind)
    places = [(path, quoted(kind.api_name)) for path in code_files()]
    places += [(path, quoted(kind.kind)) for path in ABOUT_FACTORS]
    named = sorted(
        str(path.relative_to(ROOT))
        for path, pattern in places
        if path not in allowed and pattern.search(path.read_text())
    )
    assert named == [], f"{kind.api_name} is named one by one in {named}"


def test_the_graphql_enum_and_the_pages_follow_the_registry():
    assert [(m.name, m.value) for m in TwoFactorMethod] == [
        (kind.api_name, kind.kind) for kind in registry.KINDS
    ]
    assert list(FACTOR_KINDS) == [kind.api_name for kind in registry.KINDS]
    assert registry.ORDER[-1] == registry.RECOVERY_CODE  # the fallback is offered last


@pytest.mark.parametrize("kind", registry.KINDS, ids=lambda kind: kind.kind)
def test_every_kind_has_its_template_with_every_macro_the_pages_call(kind):
    module = templates().env.get_template(FACTOR_KINDS[kind.api_name].template).module
    missing = [name for name in MACROS if not callable(getattr(module, name, None))]
    assert missing == []


@pytest.mark.parametrize("kind", registry.KINDS, ids=lambda kind: kind.kind)
def test_every_kind_a_user_sets_up_has_its_setup_operations(kind):
    operations = setup_operations(kind.api_name)
    assert len(operations) == (0 if kind.backup else 2)
    for operation in operations:
        assert (ROOT / "web" / "operations" / f"{operation}.graphql").is_file(), operation


def kind_package(kind) -> str:
    return kind.__module__.rsplit(".", 1)[0]


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_no_module_outside_a_kinds_package_and_the_registry_imports_the_kind():
    registry_file = ROOT / "backend" / "auth" / "factors" / "registry.py"
    found = set()
    for path in code_files():
        if path.suffix != ".py" or path == registry_file:
            continue
        modules = imported_modules(path)
        for kind in registry.KINDS:
            package = kind_package(kind)
            if ROOT.joinpath(*package.split(".")) in path.parents:
                continue
            if any(m == package or m.startswith(f"{package}.") for m in modules):
                found.add((str(path.relative_to(ROOT)), kind.kind))
    assert found - IMPORTS_OF_A_KIND == set(), "import the kind through the registry"
    assert IMPORTS_OF_A_KIND - found == set(), "a reason no longer needed"
