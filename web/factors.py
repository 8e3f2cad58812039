"""The kinds of second factor as the pages see them, all from the registry.

A kind's words and fields are in web/templates/factors/<kind>.html (macros challenge_prompt,
switch_button, proof_hint, add_option, setup_step, setup_fields), and so are the names of
the two operations that set it up (`setup_operations`: start, then confirm). A kind that is
not typed (a passkey) also has browser_step: the form the browser answers at sign-in.
"""

from __future__ import annotations

import dataclasses

from backend.auth.factors.registry import KINDS


@dataclasses.dataclass(frozen=True)
class FactorKind:
    name: str  # the GraphQL enum value, as the operations answer it
    label: str
    sends_codes: bool
    typed: bool
    backup: bool
    template: str


FACTOR_KINDS = {
    kind.api_name: FactorKind(
        name=kind.api_name,
        label=kind.default_name,
        sends_codes=kind.sends_codes,
        typed=kind.typed,
        backup=kind.backup,
        template=f"factors/{kind.kind}.html",
    )
    for kind in KINDS
}
