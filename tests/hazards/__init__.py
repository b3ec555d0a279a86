"""The public hazard corpus: hostile documents for every connector (see corpus.py)."""
