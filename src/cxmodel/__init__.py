"""cxmodel."""
