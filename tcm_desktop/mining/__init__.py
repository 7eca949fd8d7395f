"""mining layer."""
