"""Text-image fusion: text token states attend to the tongue classifier's feature-map tokens (issue 4)."""
