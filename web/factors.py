"""The kinds of second factor as the pages see them, all from the registry.

A kind's words and fields are in web/templates/factors/<kind>.html (macros challenge_prompt,
switch_button, proof_hint, add_option, setup_step, setup_fields); its setup runs through
StartCodeSetup/ConfirmCodeSetup when it sends codes, else through its own
Start<Name>Setup/Confirm<Name>Setup operations.
"""

from __future__ import annotations

import dataclasses

from backend.twofactor.registry import KINDS


@dataclasses.dataclass(frozen=True)
class FactorKind:
    name: str  # the GraphQL enum value, as the operations answer it
    label: str
    sends_codes: bool
    backup: bool
    template: str

    @property
    def start_operation(self) -> str:
        return f"Start{self._setup_name}Setup"

    @property
    def confirm_operation(self) -> str:
        return f"Confirm{self._setup_name}Setup"

    @property
    def _setup_name(self) -> str:
        """Code for every kind that sends codes; else the kind's own name (TOTP: Totp)."""
        if self.sends_codes:
            return "Code"
        return "".join(part.capitalize() for part in self.name.split("_"))


FACTOR_KINDS = {
    kind.api_name: FactorKind(
        name=kind.api_name,
        label=kind.default_name,
        sends_codes=kind.sends_codes,
        backup=kind.backup,
        template=f"factors/{kind.kind}.html",
    )
    for kind in KINDS
}
