"""Live dashboard of the empathy market for teaching and explaining a strategy (`python -m dashboard`)."""
