"""The paths of the links Latchkey mails. What follows one is the link's token, usable until
the link is used, so the logs hide it (infra/logs.py) wherever a path is written."""

PASSWORD_RESET = "/password-reset/"
SECURE_ACCOUNT = "/secure-account/"
ACCOUNT_DELETION_CANCEL = "/account-deletion/cancel/"
