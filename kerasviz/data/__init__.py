"""Small data files shipped with kerasviz (public-domain painting styles; see styles/README.md)."""
