"""Administrators: what an administrator may see of every account, and do to it.

Above the features it uses (sessions, tokens, recovery, second factors, applications):
every action checks the administrator (authority.py), acts, and tells (telling.py) the
user's own security log, the user by email, the operator log and the platform's events.
"""
