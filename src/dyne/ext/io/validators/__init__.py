"""Validators of the IO extension (Dyne 2.0.5's import path)."""
