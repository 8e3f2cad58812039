"""Service clients: the platform's own services, created by an operator, that may introspect."""
