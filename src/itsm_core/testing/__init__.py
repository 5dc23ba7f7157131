"""Public testing toolkit: Hypothesis strategies and slow reference oracles.

Install with ``pip install itsm-core[testing]``. The strategies generate valid
values of the library's public types for users' own property-based tests; the
oracles are deliberately slow, obviously-correct implementations that the fast
algorithms are checked against.
"""

__all__: list[str] = []
