"""The offline demo (`consent-tracker up --demo`): a simulated web, archive and Tranco list on loopback.

Everything here is made up (deterministically), and every page and report built from it says so.
"""
