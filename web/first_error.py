"""Focus on the first error without JavaScript: `autofocus` on the field it is about.

A page drawn after a failed no-JS post has its errors somewhere down a long page. With
JavaScript, `static/forms.js` focuses the first error; without, the browser's own
`autofocus` does it. The rule is the script's: the first field marked invalid, else the
field an error message follows (within its label), else the message itself. Any other
`autofocus` goes, since a page may have only one.
"""

from __future__ import annotations

import re

_AUTOFOCUS = re.compile(r"\s+autofocus(?:=\"[^\"]*\")?(?=[\s>/])")
_INVALID = re.compile(r'<(?:input|select|textarea)\b[^>]*\baria-invalid="true"')
# A message under a field, or over a form (a summary, or an error no field owns); not
# the hidden placeholders a script fills.
_MESSAGE = re.compile(r'<p\b(?![^>]*\shidden[\s>])[^>]*\bclass="(?:field-error|error)"[^>]*>')
_FIELD = re.compile(r"<(?:input|select|textarea)\b(?![^>]*\btype=\"hidden\")[^>]*>")
# What ends the walk back from a message: another field's label, or another form or section.
_BOUNDARY = re.compile(r"<label\b|<form\b|</form>|<section\b|class=\"field-error\"")


def focus_first_error(html: str) -> str:
    """`html` with one `autofocus`, on its first error; unchanged when it shows none.

    An error no field owns keeps a page's own autofocus (the code field of a sign-in step
    under "That code is not valid"); only on a page without one does the message take it.
    """
    main = max(html.find("<main"), 0)
    invalid = _INVALID.search(html, main)
    message = None if invalid else _MESSAGE.search(html, main)
    field = invalid or (message and _field_before(html, message.start()))
    if field:
        head = _AUTOFOCUS.sub("", html[: field.start()])
        tail = _AUTOFOCUS.sub("", html[field.start() :])
        return head + _add(tail, tail.index(">"), "autofocus")
    if message and not _AUTOFOCUS.search(html):
        # The message itself: focusable, yet no tab stop.
        return _add(html, message.end() - 1, 'tabindex="-1" autofocus')
    return html


def _add(html: str, tag_end: int, attributes: str) -> str:
    if html[tag_end - 1] == "/":
        tag_end -= 1
    return f"{html[:tag_end]} {attributes}{html[tag_end:]}"


def _field_before(html: str, message: int) -> re.Match[str] | None:
    """The field a message follows, when nothing but its hint stands between them."""
    fields = list(_FIELD.finditer(html, 0, message))
    if not fields or _BOUNDARY.search(html, fields[-1].end(), message):
        return None
    return fields[-1]
