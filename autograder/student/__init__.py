"""What students run: local public checks, notebook check cells, and the otter bridge."""
