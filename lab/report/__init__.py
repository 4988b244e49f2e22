"""`python -m lab report`: runs the phases, builds the sentences, renders the page (command.py)."""
