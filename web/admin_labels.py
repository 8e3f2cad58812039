"""Words for the administrators' pages' enum values (account status and type), so the
pages show them in the reader's language rather than the API's names."""

from __future__ import annotations

from backend.kernel.i18n import N_

ACCOUNT_STATUSES = {
    "ACTIVE": N_("Active"),
    "DISABLED": N_("Disabled"),
    "LOCKED": N_("Locked"),
    "DELETION_SCHEDULED": N_("Deletion scheduled"),
}
ACCOUNT_TYPES = {
    "USER": N_("User"),
    "ADMINISTRATOR": N_("Administrator"),
}
