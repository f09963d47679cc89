"""Public lighting: the inventory of light points, their physics and their day from the meters."""
