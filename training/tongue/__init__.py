"""Tongue photo models: segmenter (find the tongue) and attribute classifier (torch; training only)."""
