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
    """`html` with one `autofocus`, on its first error; unchanged when it shows none."""
    main = max(html.find("<main"), 0)
    if not (_INVALID.search(html, main) or _MESSAGE.search(html, main)):
        return html
    html = _AUTOFOCUS.sub("", html)
    main = max(html.find("<main"), 0)
    extra = ""
    invalid = _INVALID.search(html, main)
    if invalid:
        start = invalid.start()
    else:
        message = _MESSAGE.search(html, main)
        assert message is not None
        field = _field_before(html, message.start())
        start = field.start() if field else message.start()
        if field is None:
            extra = ' tabindex="-1"'  # the message itself: focusable, yet no tab stop
    tag_end = html.index(">", start)
    if html[tag_end - 1] == "/":
        tag_end -= 1
    return f"{html[:tag_end]}{extra} autofocus{html[tag_end:]}"


def _field_before(html: str, message: int) -> re.Match[str] | None:
    """The field a message follows, when nothing but its hint stands between them."""
    fields = list(_FIELD.finditer(html, 0, message))
    if not fields or _BOUNDARY.search(html, fields[-1].end(), message):
        return None
    return fields[-1]
