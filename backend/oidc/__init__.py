"""OpenID Connect provider: the keys that sign ID tokens, published at /oauth/jwks (the
authorization endpoints build on them)."""
