"""Changes a user makes to their own account: profile, email address, password."""
