"""pilotgate."""
