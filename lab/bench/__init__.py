"""`python -m lab bench`: wrk runs against contestants, verdicts, tables (command.py)."""
