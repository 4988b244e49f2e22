"""AuthLab's two matching auth servers and the core they share."""
