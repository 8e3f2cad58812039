"""The authentication core: signing in, re-authentication, lockout, sessions, the throttle
and the second factors (one folder per kind under factors/). The features build on it."""
