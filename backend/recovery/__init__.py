"""Account recovery: password reset by email, the lock after too many failed sign-ins, and
the "This wasn't me" link of security notices."""
