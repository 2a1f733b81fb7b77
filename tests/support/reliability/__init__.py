"""Reliability scenarios on moto, shared by tests/reliability and bench/reliability.py.

Everything here runs in-process against moto, so the tests assert on the same figures the benchmark
prints: each scenario returns a `Figures` dict. No pytest import anywhere in this package: the
benchmark imports it directly. One concept per module: the repository files scenarios run on
(`fixtures`), the moto world (`world`), the calls it counts (`counting`), the accounts seeded for
each playbook (`seeds`), the scenarios (`exactly_once`, `faults`, `throttling`, `fuzz`,
`broken_playbooks`) and what they return (`figures`).
"""
