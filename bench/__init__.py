"""Benchmarks of itsm_core against the libraries a user would otherwise pick.

Run ``python -m bench NAME [--quick] [--json PATH]`` or ``make bench``.
"""
