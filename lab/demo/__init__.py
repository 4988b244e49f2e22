"""The stolen-cookie story, told in a terminal (terminal.py) or a browser (console/)."""
