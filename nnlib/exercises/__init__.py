"""Exercise checks and worked solutions for the course notebooks."""
