"""Forward authentication: who a reverse proxy's sub-request speaks for, and whether it may pass.

A proxy (nginx `auth_request`, Caddy `forward_auth`, Traefik `forwardAuth`) asks before
every request of the application it protects, so the answer is read fresh each time, in
one statement, and nothing positive is remembered between requests: an ended session, a
revoked token or a left group stops passing at once, on every worker.

It sits among the features, beside `tokens`, because it reads both sessions (`auth`) and
tokens: `auth` may not import `tokens`, which sits above it. The HTTP edge that parses the
headers and shapes the answer is `backend/server/forward_auth.py`.
"""
