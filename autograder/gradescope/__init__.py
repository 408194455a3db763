"""Gradescope autograder bundle: ``nngrade gradescope`` builds it, ``run`` grades inside it."""
