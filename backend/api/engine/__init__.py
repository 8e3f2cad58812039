"""The GraphQL engine around the resolvers: document limits, caches, error masking and the
scope guard. Nothing here knows a feature."""
