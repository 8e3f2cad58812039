"""Turning a mutation's userErrors into what a form shows next to its fields."""

from __future__ import annotations

from typing import Any


def field_errors(user_errors: list[dict[str, Any]]) -> dict[str, str]:
    """{field or "": message}; errors without a field belong to the form as a whole."""
    errors: dict[str, str] = {}
    for error in user_errors:
        errors.setdefault(error.get("field") or "", error["message"])
    return errors
