"""The authorization matrix: every route of the project, every actor, the expected answer.

`actors` names who asks, `world` builds the objects they ask about, `matrix` says what each
may see and do (from ../shared/DOMAIN.md), `writes` proves a refused write changed no row.
tests/test_authz_matrix.py runs it all and fails on any route the matrix does not cover.
"""
