"""Scenario plans for the safety and planner tests (hand-worked millimetres in the test tables)."""
