"""An account's lifecycle at its end: the export of everything Latchkey holds about it, and
its deletion (scheduled by its user, cancelled by the emailed link, carried out by the
background job; or at once by an administrator)."""
